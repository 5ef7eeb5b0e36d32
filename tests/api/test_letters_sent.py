"""Every step is told to the person, in plain words, signed by the controller: through the
HTTP API, on each database, reading the letters from the mail outbox."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from app.services import sweeps
from tests.api.test_lifecycle import outbox

KARI = {"email": "kari.nordmann@example.no", "name": "Kari Nordmann"}


def letters_to(settings, address: str) -> list:
    return [m for m in outbox(settings) if m["To"] == address]


async def test_a_staff_filed_request_gives_the_person_a_working_status_link(
    client, staff, settings, runtime
):
    runtime.settings.controller_name = "Motkraft AS"
    runtime.settings.controller_contact = "hei@motkraft.no"
    runtime.settings.dpo_contact = "personvernombud@motkraft.no"
    response = await client.post(
        "/v1/requests",
        json={
            "kind": "access",
            "channel": "phone",
            "subject": KARI,
            "verification": {"method": "staff", "note": "called back on the number on file"},
        },
        headers=staff["operator"],
    )
    assert response.status_code == 201, response.text
    sent = letters_to(settings, KARI["email"])
    [ack] = [m for m in sent if m["Subject"] == "Vi har mottatt forespørselen din"]
    text = ack.get_content()
    assert "innsyn i opplysningene dine" in text
    # 2 April 2026 is Maundy Thursday: the deadline moves past Easter, told as a date in words
    assert "senest tirsdag 7. april 2026" in text
    assert "Motkraft AS" in text and "hei@motkraft.no" in text
    assert "personvernombud@motkraft.no" in text
    link = re.search(r"https?://\S+/personvern/requests/\S+\?token=\S+", text)
    assert link, text
    parts = urlsplit(link.group(0))
    request_id = response.json()["id"]
    assert parts.path == f"/personvern/requests/{request_id}"
    # The status page takes the token into a cookie and drops it from the address.
    opened = await client.get(f"{parts.path}?{parts.query}")
    assert opened.status_code == 303 and opened.headers["location"] == parts.path
    status = await client.get(parts.path)
    assert status.status_code == 200, status.text
    assert 'lang="nb"' in status.text
    # No system is configured: nothing was searched, so staff answer with a statement.
    stated = await client.post(
        f"/v1/requests/{response.json()['id']}/complete",
        json={"statement": "Vi har ingen opplysninger om deg i noen av systemene våre."},
        headers=staff["operator"],
    )
    assert stated.status_code == 200, stated.text
    sent = letters_to(settings, KARI["email"])
    [done] = [m for m in sent if m["Subject"] == "Forespørselen din er behandlet"]
    assert "token=<" not in done.get_content()


async def test_only_a_proven_address_gets_the_status_link(client, staff, settings):
    response = await client.post(
        "/v1/requests",
        json={
            "kind": "access",
            "subject": KARI | {"phone": "+4741500001"},
            "verification": {"method": "staff", "note": "called back", "checked": ["phone"]},
        },
        headers=staff["operator"],
    )
    assert response.status_code == 201, response.text
    for message in letters_to(settings, KARI["email"]):
        assert "token=" not in message.get_content()


async def test_every_mail_has_a_date_and_a_message_id(client, form_key, settings):
    response = await client.post(
        "/v1/requests", json={"kind": "erasure", "subject": KARI}, headers=form_key
    )
    assert response.status_code == 201
    [code] = letters_to(settings, KARI["email"])
    assert code["Date"] and code["Date"].datetime.tzinfo is not None
    assert re.fullmatch(r"<[^@<>]+@[^@<>]+>", code["Message-ID"])


async def test_an_unverified_request_is_closed_with_a_letter(
    client, form_key, settings, runtime, clock
):
    response = await client.post(
        "/v1/requests",
        json={"kind": "access", "subject": KARI, "language": "en"},
        headers=form_key,
    )
    assert response.status_code == 201
    token = response.json()["status_token"]
    clock.advance(timedelta(days=runtime.settings.unverified_close_days + 1))
    assert await sweeps.close_unverified(runtime) == 1
    status = await client.get(
        f"/v1/requests/{response.json()['id']}/status", params={"token": token}
    )
    assert status.json()["status"] == "closed_unverified"
    closed = letters_to(settings, KARI["email"])[-1]
    assert closed["Subject"] == "We have closed your request"
    text = closed.get_content()
    assert "14 days" in text and "new request" in text and "Datatilsynet" in text


async def test_an_extension_quotes_the_reason_in_a_norwegian_letter(
    client, form_key, staff, settings
):
    response = await client.post(
        "/v1/requests", json={"kind": "access", "subject": KARI}, headers=form_key
    )
    extended = await client.post(
        f"/v1/requests/{response.json()['id']}/extend",
        json={"months": 1, "reason": "the data is spread over many systems"},
        headers=staff["approver"],
    )
    assert extended.status_code == 200, extended.text
    letter = letters_to(settings, KARI["email"])[-1]
    text = letter.get_content()
    assert letter["Subject"] == "Vi trenger mer tid til å svare deg"
    assert "«the data is spread over many systems»" in text
    assert "med én måned" in text and "måned(er)" not in text
    assert "Fordi the" not in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}", text)


async def _finish(client, staff, runtime, worker, kind: str, language: str) -> str:
    from tests.holds.test_rights_end_to_end import EMAIL, systems
    from tests.jobs.systems import registry

    billing, crm = systems()
    runtime.connectors = registry(billing, crm)
    response = await client.post(
        "/v1/requests",
        json={
            "kind": kind,
            "language": language,
            "subject": {"email": EMAIL},
            "verification": {"method": "staff", "note": "known customer"},
        },
        headers=staff["operator"],
    )
    assert response.status_code == 201, response.text
    await worker.run_until_idle()
    view = await client.get(f"/v1/requests/{response.json()['id']}", headers=staff["auditor"])
    assert view.json()["status"] == "completed"
    return EMAIL


async def test_an_objection_letter_says_what_was_erased_and_the_suppression_list(
    client, staff, settings, runtime, worker
):
    email = await _finish(client, staff, runtime, worker, "objection", "nb")
    letter = letters_to(settings, email)[-1]
    text = letter.get_content()
    assert letter["Subject"] == "Svar på protesten din"
    assert "I kunderegisteret: nyhetsbrev." in text  # what was erased, in words
    assert "sperrelisten" in text  # the person is on the suppression list
    assert "(objection)" not in text and "newsletter" not in text


async def test_a_consent_letter_says_what_was_erased(client, staff, settings, runtime, worker):
    email = await _finish(client, staff, runtime, worker, "withdraw_consent", "en")
    letter = letters_to(settings, email)[-1]
    text = letter.get_content()
    assert letter["Subject"] == "Your consent is withdrawn"
    assert "In the customer register: newsletters." in text
    assert "withdraw_consent" not in text
