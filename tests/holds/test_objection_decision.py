"""Art. 21(1): an approver decides an objection to processing on legitimate interest, with
grounds; the request waits for the decision; an upheld objection stops that processing by
erasing what it reached, legal holds permitting; the person is told."""

from __future__ import annotations

from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

from app.connectors.protocol import HoldFinding
from tests.jobs.systems import MemorySystem, category, registry

EMAIL = "objector@example.no"
INTEREST = "GDPR 6(1)(f) legitimate interest"


def crm() -> MemorySystem:
    system = MemorySystem(
        "crm",
        categories=[
            category("contact"),
            category("profiling", legal_basis=INTEREST),
            category("call_notes", legal_basis="GDPR 6 (1) (f) legitimate interest"),
            category("newsletter", marketing=True, consent_based=True),
        ],
        holds=[
            HoldFinding(
                basis_code="legal_claim",
                categories=["call_notes"],
                until=date(2028, 1, 1),
                reference="dispute 17",
            )
        ],
    )
    for name in ("contact", "profiling", "call_notes", "newsletter"):
        system.seed(EMAIL, name, {"item": name})
    return system


async def objection(client, staff, purposes: list[str]) -> dict:
    response = await client.post(
        "/v1/requests",
        json={
            "kind": "objection",
            "language": "en",
            "subject": {"email": EMAIL},
            "details": {"purposes": purposes},
            "verification": {"method": "staff", "note": "known customer"},
        },
        headers=staff["operator"],
    )
    assert response.status_code == 201, response.text
    return response.json()


def letters(settings) -> list[str]:
    files = sorted(Path(settings.outbox_dir).glob("*.eml"))
    return [message_from_bytes(p.read_bytes(), policy=policy.default).get_content() for p in files]


async def view(client, staff, request_id: str) -> dict:
    response = await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])
    return response.json()


async def decide(client, staff, request_id: str, **body) -> object:
    return await client.post(
        f"/v1/requests/{request_id}/objection-decision", json=body, headers=staff["approver"]
    )


async def test_a_21_1_objection_waits_for_the_decision_and_touches_nothing(
    client, staff, runtime, worker
):
    system = crm()
    runtime.connectors = registry(system)
    created = await objection(client, staff, ["fraud_prevention_profiling"])
    await worker.run_until_idle()
    waiting = await view(client, staff, created["id"])
    assert waiting["status"] == "awaiting_manual"
    assert waiting["tasks"] == []
    assert sorted(system.data[EMAIL]) == ["call_notes", "contact", "newsletter", "profiling"]


async def test_rejected_objection_gives_grounds_and_remedies(
    client, staff, runtime, worker, settings
):
    system = crm()
    runtime.connectors = registry(system)
    created = await objection(client, staff, ["fraud_prevention_profiling"])
    body = {"decision": "rejected", "grounds": "Fraud screening is required to prevent losses."}
    forbidden = await client.post(
        f"/v1/requests/{created['id']}/objection-decision", json=body, headers=staff["operator"]
    )
    assert forbidden.status_code == 403
    response = await decide(client, staff, created["id"], **body)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed"
    letter = letters(settings)[-1]
    assert "compelling legitimate grounds" in letter
    assert "Fraud screening" in letter
    assert "Datatilsynet" in letter
    assert (await decide(client, staff, created["id"], **body)).status_code == 409
    done = await view(client, staff, created["id"])
    assert done["outcome"]["objection"] == {"decision": "rejected", "follow_up_request_id": None}
    assert sorted(system.data[EMAIL]) == ["call_notes", "contact", "newsletter", "profiling"]
    audit = await client.get(
        "/v1/audit", params={"request_id": created["id"]}, headers=staff["auditor"]
    )
    decided = [e for e in audit.json()["items"] if e["action"] == "objection.decided"]
    assert [e["detail"] for e in decided] == [{"decision": "rejected"}]
    assert "Fraud screening" not in audit.text  # the grounds are sealed, not in the trail


async def test_upheld_objection_erases_legitimate_interest_data_except_what_is_held(
    client, staff, runtime, worker, settings
):
    system = crm()
    runtime.connectors = registry(system)
    created = await objection(client, staff, ["profiling"])
    await worker.run_until_idle()
    response = await decide(
        client, staff, created["id"], decision="upheld", grounds="No overriding interest."
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed"
    original = await view(client, staff, created["id"])
    follow_up_id = original["outcome"]["objection"]["follow_up_request_id"]
    assert original["outcome"]["objection"]["decision"] == "upheld"
    await worker.run_until_idle()

    follow_up = await view(client, staff, follow_up_id)
    assert follow_up["status"] == "completed"
    assert follow_up["kind"] == "erasure"
    # Contract and consent data are untouched; profiling is gone; the disputed notes stay.
    assert sorted(system.data[EMAIL]) == ["call_notes", "contact", "newsletter"]
    held = follow_up["outcome"]["connectors"]["crm"]["held"]
    assert [(h["category"], h["basis_code"]) for h in held] == [("call_notes", "legal_claim")]
    told = letters(settings)
    assert "We have upheld your objection" in told[-2]
    assert "call notes" in told[-1] and "1 January 2028" in told[-1]  # what was kept, until when


async def test_upheld_objection_can_be_narrowed_to_named_categories(client, staff, runtime, worker):
    system = crm()
    system.holds = []
    runtime.connectors = registry(system)
    created = await objection(client, staff, ["profiling"])
    await worker.run_until_idle()
    for bad in (["newsletter"], ["nonexistent"]):  # consent-based; undeclared
        refused = await decide(
            client, staff, created["id"], decision="upheld", grounds="none found", categories=bad
        )
        assert refused.status_code == 422, refused.text
    response = await decide(
        client,
        staff,
        created["id"],
        decision="upheld",
        grounds="none found",
        categories=["profiling"],
    )
    assert response.status_code == 200
    await worker.run_until_idle()
    assert sorted(system.data[EMAIL]) == ["call_notes", "contact", "newsletter"]


async def test_marketing_and_21_1_together_erase_marketing_first_then_wait(
    client, staff, runtime, worker
):
    system = crm()
    runtime.connectors = registry(system)
    created = await objection(client, staff, ["direct_marketing", "profiling"])
    await worker.run_until_idle()
    assert "newsletter" not in system.data[EMAIL]
    assert (await view(client, staff, created["id"]))["status"] == "awaiting_manual"
    marketing_only = await objection(client, staff, ["direct_marketing"])
    await worker.run_until_idle()
    assert (await view(client, staff, marketing_only["id"]))["status"] == "completed"
    absolute = await decide(
        client, staff, marketing_only["id"], decision="rejected", grounds="not needed"
    )
    assert absolute.status_code == 409


async def test_only_verified_objections_get_a_decision(client, staff, form_key):
    unverified = await client.post(
        "/v1/requests",
        json={"kind": "objection", "subject": {"email": EMAIL}, "details": {"purposes": ["x"]}},
        headers=form_key,
    )
    response = await decide(
        client, staff, unverified.json()["id"], decision="upheld", grounds="too early"
    )
    assert response.status_code == 409
    access = await client.post(
        "/v1/requests",
        json={"kind": "access", "subject": {"email": "a@example.no"}},
        headers=form_key,
    )
    wrong_kind = await decide(client, staff, access.json()["id"], decision="upheld", grounds="n/a")
    assert wrong_kind.status_code == 409
    invalid = await decide(client, staff, access.json()["id"], decision="maybe", grounds="x")
    assert invalid.status_code == 422
