"""A person without an e-mail address is told by post: the letter waits, printable, until
staff mark it posted (never silence, D9)."""

from __future__ import annotations

import io

from pypdf import PdfReader

PHONED_IN = {
    "kind": "access",
    "channel": "phone",
    "language": "nb",
    "subject": {"phone": "+4741500002", "national_id": "30108299920", "name": "Ola Nordmann"},
    "verification": {"method": "staff", "note": "called back", "checked": ["phone"]},
}


async def _letters(client, staff, request_id):
    view = await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])
    return view.json()["letters"]


async def test_a_phoned_in_request_gets_a_printed_letter_staff_post(client, staff, runtime):
    def outbox_empty() -> bool:
        folder = runtime.settings.outbox_dir
        return not folder.exists() or not any(folder.glob("*.eml"))

    created = await client.post("/v1/requests", json=PHONED_IN, headers=staff["operator"])
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    [ack] = [x for x in await _letters(client, staff, request_id) if x["kind"] == "acknowledgement"]
    assert (ack["channel"], ack["status"], ack["sent_at"]) == ("post", "to_post", None)
    assert outbox_empty()  # nothing went by e-mail

    url = f"/v1/requests/{request_id}/letters/{ack['id']}"
    page = await client.get(f"{url}/print", params={"format": "html"}, headers=staff["operator"])
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert '<html lang="nb">' in page.text and request_id in page.text
    printed = await client.get(f"{url}/print", headers=staff["operator"])
    assert printed.headers["content-type"] == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(printed.content)).pages)
    assert request_id in text

    denied = await client.post(f"{url}/posted", headers=staff["auditor"])
    assert denied.status_code == 403
    posted = await client.post(f"{url}/posted", headers=staff["operator"])
    assert posted.status_code == 200, posted.text
    assert posted.json()["status"] == "posted" and posted.json()["sent_at"]
    assert (await client.post(f"{url}/posted", headers=staff["operator"])).status_code == 409
    assert (await client.get(f"{url}/print", headers=staff["operator"])).status_code == 409
    audit = await client.get(
        "/v1/audit", params={"request_id": request_id}, headers=staff["auditor"]
    )
    assert "letter.posted" in [e["action"] for e in audit.json()["items"]]


async def test_an_email_letter_is_not_printed(client, staff):
    body = PHONED_IN | {"subject": {"email": "ola.nordmann@example.no"}}
    body["verification"] = {"method": "staff", "note": "known"}
    created = await client.post("/v1/requests", json=body, headers=staff["operator"])
    request_id = created.json()["id"]
    [ack] = [x for x in await _letters(client, staff, request_id) if x["kind"] == "acknowledgement"]
    assert (ack["channel"], ack["status"]) == ("email", "sent")
    url = f"/v1/requests/{request_id}/letters/{ack['id']}/print"
    assert (await client.get(url, headers=staff["operator"])).status_code == 409
    other = f"/v1/requests/req_nope/letters/{ack['id']}/print"
    assert (await client.get(other, headers=staff["operator"])).status_code == 404
