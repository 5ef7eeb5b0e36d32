"""Verification, extension, refusal and withdrawal: the request's life through the API."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

ALICE = {"email": "alice.nordmann@example.no"}


async def file(client, headers, **body):
    payload = {"kind": "access", "subject": ALICE, "language": "en"} | body
    response = await client.post("/v1/requests", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def outbox(settings) -> list:
    folder = Path(settings.outbox_dir)
    return [
        message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted(folder.glob("*.eml"))
    ]


def last_code(settings) -> str:
    for message in reversed(outbox(settings)):
        match = re.search(r"code is (\d{6})", message.get_content())
        if match:
            return match.group(1)
    raise AssertionError("no code was sent")


async def test_email_code_verifies_the_request(client, form_key, settings, staff):
    created = await file(client, form_key)
    mail = outbox(settings)
    assert len(mail) == 1 and mail[0]["To"] == ALICE["email"]
    url = f"/v1/requests/{created['id']}/verification"
    wrong = await client.post(url, json={"code": "000000"}, headers=form_key)
    if last_code(settings) == "000000":  # one in a million: pick another wrong code
        wrong = await client.post(url, json={"code": "111111"}, headers=form_key)
    assert wrong.status_code == 422
    assert wrong.json()["type"] == "/problems/verification-failed"
    ok = await client.post(url, json={"code": last_code(settings)}, headers=form_key)
    assert ok.status_code == 200, ok.text
    # No connector configured: nothing was searched, so it waits for staff's statement.
    assert ok.json()["status"] == "awaiting_manual"
    assert ok.json()["verification"]["state"] == "verified"
    view = (await client.get(f"/v1/requests/{created['id']}", headers=staff["auditor"])).json()
    actions = [e["action"] for e in view["timeline"]]
    assert "verification.failed" in actions and "request.verify" in actions


async def test_too_many_wrong_codes_is_429_and_counts_survive(client, form_key, settings):
    created = await file(client, form_key)
    url = f"/v1/requests/{created['id']}/verification"
    real = last_code(settings)
    wrong = "123456" if real != "123456" else "654321"
    for _ in range(settings.verification_max_attempts):
        assert (await client.post(url, json={"code": wrong}, headers=form_key)).status_code == 422
    blocked = await client.post(url, json={"code": real}, headers=form_key)
    assert blocked.status_code == 429
    assert blocked.headers["content-type"] == "application/problem+json"


async def test_expired_code_and_throttled_resend(client, form_key, settings, clock):
    created = await file(client, form_key)
    code = last_code(settings)
    clock.advance(timedelta(minutes=16))
    url = f"/v1/requests/{created['id']}/verification"
    expired = await client.post(url, json={"code": code}, headers=form_key)
    assert expired.status_code == 422
    resend = await client.post(f"{url}/resend", headers=form_key)
    assert resend.status_code == 202
    again = await client.post(f"{url}/resend", headers=form_key)
    assert again.status_code == 429 and int(again.headers["retry-after"]) > 0
    ok = await client.post(url, json={"code": last_code(settings)}, headers=form_key)
    assert ok.status_code == 200


async def test_operator_attests_a_pending_request(client, form_key, staff):
    created = await file(client, form_key)
    url = f"/v1/requests/{created['id']}/verification"
    body = {"method": "staff", "note": "Known customer, called back"}
    assert (await client.post(url, json=body, headers=staff["auditor"])).status_code == 403
    ok = await client.post(url, json=body, headers=staff["operator"])
    assert ok.status_code == 200 and ok.json()["verification"]["method"] == "staff"
    # No connector configured: it waits for staff, who complete it with a statement.
    assert ok.json()["status"] == "awaiting_manual"
    statement = {"statement": "No system is connected yet; we checked the CRM by hand."}
    done = await client.post(
        f"/v1/requests/{created['id']}/complete", json=statement, headers=staff["operator"]
    )
    assert done.status_code == 200, done.text
    twice = await client.post(url, json=body, headers=staff["operator"])
    assert twice.status_code == 409
    assert twice.json()["type"] == "/problems/invalid-transition"


async def test_extend_before_first_deadline(client, form_key, staff, settings):
    created = await file(client, form_key)
    url = f"/v1/requests/{created['id']}/extend"
    body = {"months": 2, "reason": "the data is spread over many systems"}
    assert (await client.post(url, json=body, headers=staff["operator"])).status_code == 403
    response = await client.post(url, json=body, headers=staff["approver"])
    assert response.status_code == 200, response.text
    # Received 2 March 2026: 2 April + 2 months = 2 June (Tuesday), earlier than 2 June anyway.
    assert response.json()["extended_due_at"].startswith("2026-06-02")
    assert response.json()["due_at"] == created["due_at"]
    assert any("more time" in m["Subject"] for m in outbox(settings))
    more = await client.post(url, json={"months": 1, "reason": "again"}, headers=staff["approver"])
    assert more.status_code == 409


async def test_extend_months_and_reason_are_validated(client, form_key, staff):
    created = await file(client, form_key)
    url = f"/v1/requests/{created['id']}/extend"
    for body in (
        {"months": 3, "reason": "too long"},
        {"months": 0, "reason": "zero"},
        {"months": 1},
        {"months": 1, "reason": ""},
    ):
        response = await client.post(url, json=body, headers=staff["approver"])
        assert response.status_code == 422, body


async def test_extension_after_the_first_deadline_is_refused(client, form_key, staff, clock):
    created = await file(client, form_key)
    clock.advance(timedelta(days=40))
    response = await client.post(
        f"/v1/requests/{created['id']}/extend",
        json={"months": 1, "reason": "late"},
        headers=staff["approver"],
    )
    assert response.status_code == 409
    assert "passed" in response.json()["detail"]


async def test_refusal_sends_reasons_and_right_to_complain(client, form_key, staff, settings):
    created = await file(client, form_key)
    url = f"/v1/requests/{created['id']}/refuse"
    body = {"reason_code": "excessive", "explanation": "Fourth identical request this month."}
    assert (await client.post(url, json=body, headers=staff["operator"])).status_code == 403
    bad = await client.post(
        url, json={"reason_code": "because", "explanation": "x y z"}, headers=staff["approver"]
    )
    assert bad.status_code == 422
    response = await client.post(url, json=body, headers=staff["approver"])
    assert response.status_code == 200 and response.json()["status"] == "refused"
    letter = outbox(settings)[-1].get_content()
    assert "Datatilsynet" in letter and "GDPR art. 12(5)" in letter
    assert "court" in letter
    again = await client.post(url, json=body, headers=staff["approver"])
    assert again.status_code == 409


async def test_subject_withdraws_with_token_but_not_with_another(client, form_key):
    mine = await file(client, form_key)
    other = await file(client, form_key, subject={"email": "bob@example.no"})
    url = f"/v1/requests/{mine['id']}/withdraw"
    refused = await client.post(url, params={"token": other["status_token"]})
    assert refused.status_code == 403
    nobody = await client.post(url)
    assert nobody.status_code == 401
    ok = await client.post(url, params={"token": mine["status_token"]})
    assert ok.status_code == 200 and ok.json()["status"] == "withdrawn"
    status = await client.get(
        f"/v1/requests/{mine['id']}/status", params={"token": mine["status_token"]}
    )
    assert status.json()["status"] == "withdrawn"


async def test_staff_withdraws_and_terminal_requests_stay_terminal(client, form_key, staff):
    created = await file(client, form_key)
    base = f"/v1/requests/{created['id']}"
    ok = await client.post(
        f"{base}/withdraw", json={"reason": "asked by phone"}, headers=staff["operator"]
    )
    assert ok.status_code == 200
    for path, body, role in [
        ("/withdraw", {}, "operator"),
        ("/refuse", {"reason_code": "excessive", "explanation": "late"}, "approver"),
        ("/extend", {"months": 1, "reason": "late"}, "approver"),
    ]:
        response = await client.post(base + path, json=body, headers=staff[role])
        assert response.status_code == 409, path
