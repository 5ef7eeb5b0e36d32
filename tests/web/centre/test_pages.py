"""The person's path after the form: the code page (wrong code next to the field, attempts
capped as in the API, a new code), the status page (only for the browser holding the status
token), the download page (formats; an expired link in words), and no personal data in logs."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from app.web.centre.access import COOKIE
from tests.web.centre.helpers import csrf_of, last_code, post_form

OLA = "ola.nordmann@example.no"
NATIONAL_ID = "30108299920"


async def _filed(client, **extra: str) -> str:
    data = {"right": "access", "email": OLA, "name": "Ola Nordmann"} | extra
    answer = await post_form(client, "/personvern/", data)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"].split("/")[3]


async def _post_code(client, request_id: str, code: str):
    page = await client.get(f"/personvern/requests/{request_id}/code")
    return await client.post(
        f"/personvern/requests/{request_id}/code",
        data={"csrf_token": csrf_of(page.text), "code": code},
    )


async def _verified(client, settings) -> str:
    request_id = await _filed(client)
    done = await _post_code(client, request_id, last_code(Path(settings.outbox_dir)))
    assert (
        done.status_code == 303 and done.headers["location"] == f"/personvern/requests/{request_id}"
    )
    return request_id


async def test_a_wrong_code_is_shown_next_to_the_field(client, settings):
    request_id = await _filed(client)
    real = last_code(Path(settings.outbox_dir))
    wrong = await _post_code(client, request_id, "000000" if real != "000000" else "111111")
    assert wrong.status_code == 422
    assert 'id="f-code-error"' in wrong.text and "Koden stemmer ikke" in wrong.text
    right = await _post_code(client, request_id, real)
    assert right.status_code == 303


async def test_code_attempts_are_capped_as_in_the_api(client, settings):
    request_id = await _filed(client)
    real = last_code(Path(settings.outbox_dir))
    wrong = "000000" if real != "000000" else "111111"
    for _ in range(settings.verification_max_attempts):
        assert (await _post_code(client, request_id, wrong)).status_code == 422
    capped = await _post_code(client, request_id, real)
    assert capped.status_code == 429 and "for mange ganger" in capped.text


async def test_a_new_code_can_be_sent(client, settings, clock):
    request_id = await _filed(client)
    first = last_code(Path(settings.outbox_dir))
    clock.advance(timedelta(seconds=settings.verification_resend_seconds + 1))
    page = await client.get(f"/personvern/requests/{request_id}/code")
    sent = await client.post(
        f"/personvern/requests/{request_id}/code/resend", data={"csrf_token": csrf_of(page.text)}
    )
    assert sent.status_code == 200 and "ny kode" in sent.text
    assert len(list(Path(settings.outbox_dir).glob("*.eml"))) >= 2
    assert last_code(Path(settings.outbox_dir)) or first


async def test_another_browser_cannot_see_the_request(client, settings, runtime):
    import httpx

    from app.main import create_app

    request_id = await _verified(client, settings)
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://innsyn.test") as other:
        for path in ("", "/code"):
            page = await other.get(f"/personvern/requests/{request_id}{path}")
            assert page.status_code == 404 and "denne nettleseren" in page.text
        forged = await other.get(f"/personvern/requests/{request_id}?token=wrong-token-x")
        assert forged.status_code == 303  # taken into the cookie, then refused
        assert (await other.get(forged.headers["location"])).status_code == 404


async def test_the_status_page_says_what_happens_and_the_deadline_in_words(client, settings):
    request_id = await _verified(client, settings)
    nb = await client.get(f"/personvern/requests/{request_id}")
    assert nb.status_code == 200
    # Filed on 2 March 2026 (the frozen clock): one month is Maundy Thursday: the next working day after Easter.
    assert "Vi svarer senest 7. april 2026." in nb.text
    assert "innsyn i opplysningene dine" in nb.text
    en = await client.get(f"/personvern/requests/{request_id}?lang=en")
    assert "We will answer by 7 April 2026 at the latest." in en.text
    assert 'lang="en"' in en.text


async def test_a_letters_status_link_moves_the_token_into_the_cookie(client, form_key):
    filed = await client.post(
        "/v1/requests",
        json={"kind": "access", "subject": {"email": OLA}, "language": "nb"},
        headers=form_key,
    )
    body = filed.json()
    moved = await client.get(f"/personvern/requests/{body['id']}?token={body['status_token']}")
    assert (
        moved.status_code == 303
        and moved.headers["location"] == f"/personvern/requests/{body['id']}"
    )
    assert COOKIE in moved.headers["set-cookie"]
    page = await client.get(moved.headers["location"])
    assert page.status_code == 200 and "Skriv inn koden" in page.text


async def test_the_finished_request_links_to_its_answer(client, settings, staff, clock):
    request_id = await _verified(client, settings)
    done = await client.post(
        f"/v1/requests/{request_id}/complete",
        json={"statement": "We searched the paper archive and found nothing about you."},
        headers=staff["operator"],
    )
    assert done.status_code == 200, done.text
    status = await client.get(f"/personvern/requests/{request_id}")
    assert "Svaret ditt er klart" in status.text
    link = status.text.split('href="/personvern/answers/')[1].split('"')[0]
    page = await client.get(f"/personvern/answers/{link}")
    assert page.status_code == 200
    for fmt in ("html", "pdf", "portable", "json", "zip"):
        assert f'href="/v1/answers/{link}?format={fmt}"' in page.text
    views = (await client.get(f"/v1/requests/{request_id}", headers=staff["auditor"])).json()
    assert [v["downloads"] for v in views["answer_links"]] == [0]  # the page reads nothing
    pdf = await client.get(f"/v1/answers/{link}?format=pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"

    clock.advance(timedelta(days=settings.answer_link_days + 1))
    expired = await client.get(f"/personvern/answers/{link}?lang=en")
    assert expired.status_code == 410 and "has expired" in expired.text


async def test_an_unknown_answer_link_is_a_page_in_words(client):
    page = await client.get("/personvern/answers/" + "x" * 43)
    assert page.status_code == 404 and "Lenken er feil" in page.text


@pytest.mark.parametrize("secret", ["email", "national_id", "token"])
async def test_no_personal_data_in_logs(client, settings, capsys, caplog, secret):
    request_id = await _filed(client, national_id=NATIONAL_ID, phone="41234567")
    await _post_code(client, request_id, last_code(Path(settings.outbox_dir)))
    await client.get(f"/personvern/requests/{request_id}")
    logged = capsys.readouterr().out + capsys.readouterr().err + caplog.text
    cookie = client.cookies.get(COOKIE) or ""
    value = {"email": OLA, "national_id": NATIONAL_ID, "token": cookie}[secret]
    assert value and value not in logged
    assert "41234567" not in logged
