"""Art. 21(1): staff record whether an objection is upheld, with grounds; the person is told."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path


async def objection(client, form_key) -> dict:
    response = await client.post(
        "/v1/requests",
        json={
            "kind": "objection",
            "language": "en",
            "subject": {"email": "objector@example.no"},
            "details": {"purposes": ["fraud_prevention_profiling"]},
        },
        headers=form_key,
    )
    assert response.status_code == 201
    return response.json()


def last_letter(settings) -> str:
    files = sorted(Path(settings.outbox_dir).glob("*.eml"))
    return message_from_bytes(files[-1].read_bytes(), policy=policy.default).get_content()


async def test_rejected_objection_gives_grounds_and_remedies(client, staff, form_key, settings):
    created = await objection(client, form_key)
    url = f"/v1/requests/{created['id']}/objection-decision"
    body = {"decision": "rejected", "grounds": "Fraud screening is required to prevent losses."}
    assert (await client.post(url, json=body, headers=staff["operator"])).status_code == 403
    response = await client.post(url, json=body, headers=staff["approver"])
    assert response.status_code == 200, response.text
    letter = last_letter(settings)
    assert "compelling legitimate grounds" in letter
    assert "Fraud screening" in letter
    assert "Datatilsynet" in letter
    again = await client.post(url, json=body, headers=staff["approver"])
    assert again.status_code == 409
    audit = await client.get(
        "/v1/audit", params={"request_id": created["id"]}, headers=staff["auditor"]
    )
    decided = [e for e in audit.json()["items"] if e["action"] == "objection.decided"]
    assert [e["detail"] for e in decided] == [{"decision": "rejected"}]
    assert "Fraud screening" not in audit.text  # the grounds are sealed, not in the trail


async def test_only_objections_get_a_decision(client, staff, form_key):
    created = await client.post(
        "/v1/requests",
        json={"kind": "access", "subject": {"email": "a@example.no"}},
        headers=form_key,
    )
    response = await client.post(
        f"/v1/requests/{created.json()['id']}/objection-decision",
        json={"decision": "upheld", "grounds": "n/a here"},
        headers=staff["approver"],
    )
    assert response.status_code == 409
    invalid = await client.post(
        f"/v1/requests/{created.json()['id']}/objection-decision",
        json={"decision": "maybe", "grounds": "x"},
        headers=staff["approver"],
    )
    assert invalid.status_code == 422
