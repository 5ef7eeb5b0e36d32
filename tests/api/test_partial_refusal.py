"""Refusing part of a request (D9): the part is left out with its reason, the rest is done,
and the answer and the letter say what was refused and why."""

from __future__ import annotations

from tests.jobs.systems import MemorySystem, category, registry

EMAIL = "randi.rest@example.no"
SUBJECT = {"email": EMAIL, "name": "Randi Rest"}


def crm() -> MemorySystem:
    system = MemorySystem(
        "crm",
        categories=[category("contact"), category("orders"), category("support_notes")],
    )
    system.seed(EMAIL, "contact", {"email": EMAIL})
    system.seed(EMAIL, "orders", {"order": "A-1"})
    system.seed(EMAIL, "support_notes", {"note": "Randi called about Per's order"})
    return system


async def filed(client, staff, worker, runtime, kind: str, *, run: bool = True, **extra):
    created = await client.post(
        "/v1/requests",
        json={
            "kind": kind,
            "language": "en",
            "subject": SUBJECT,
            "verification": {"method": "staff", "note": "known customer"},
        }
        | extra,
        headers=staff["operator"],
    )
    assert created.status_code == 201, created.text
    if run:
        await worker.run_until_idle()
    return created.json()


def letter_bodies(runtime) -> list[str]:
    return [
        p.read_bytes().decode(errors="replace")
        for p in sorted(runtime.settings.outbox_dir.glob("*.eml"))
    ]


async def test_an_erasure_refused_for_one_category_erases_the_rest(client, staff, worker, runtime):
    system = crm()
    runtime.connectors = registry(system)
    created = await filed(client, staff, worker, runtime, "erasure", run=False)
    url = f"/v1/requests/{created['id']}/refuse-part"
    wrong_kind = {
        "system": "crm",
        "category": "orders",
        "reason_code": "third_party_rights",
        "explanation": "x" * 5,
    }
    assert (await client.post(url, json=wrong_kind, headers=staff["approver"])).status_code == 422
    unknown = {
        "system": "crm",
        "category": "tax",
        "reason_code": "legal_claims",
        "explanation": "a dispute",
    }
    assert (await client.post(url, json=unknown, headers=staff["approver"])).status_code == 422
    body = {
        "system": "crm",
        "category": "orders",
        "reason_code": "legal_claims",
        "explanation": "Order A-1 is part of a dispute before the conciliation board.",
    }
    assert (await client.post(url, json=body, headers=staff["operator"])).status_code == 403
    refused = await client.post(url, json=body, headers=staff["approver"])
    assert refused.status_code == 200, refused.text

    await worker.run_until_idle()
    view = (await client.get(f"/v1/requests/{created['id']}", headers=staff["operator"])).json()
    assert view["status"] == "completed"
    assert view["outcome"]["refused_parts"] == [
        {"system": "crm", "category": "orders", "reason_code": "legal_claims"}
    ]
    assert system.data[EMAIL] == {"orders": [{"order": "A-1"}]}  # only the refused part stays
    completion = letter_bodies(runtime)[-1]
    assert "refused part of your request" in completion
    assert "conciliation board" in completion
    again = await client.post(url, json=body | {"category": "contact"}, headers=staff["approver"])
    assert again.status_code == 409  # completed: nothing left to refuse


async def test_an_answer_refused_for_one_category_says_why_and_gives_the_rest(
    client, staff, worker, runtime
):
    runtime.connectors = registry(crm())
    created = await filed(client, staff, worker, runtime, "access", run=False)
    body = {
        "system": "crm",
        "category": "support_notes",
        "reason_code": "third_party_rights",
        "explanation": "The notes are about another customer's order.",
    }
    refused = await client.post(
        f"/v1/requests/{created['id']}/refuse-part", json=body, headers=staff["approver"]
    )
    assert refused.status_code == 200, refused.text
    await worker.run_until_idle()
    report = (
        await client.get(f"/v1/requests/{created['id']}/report", headers=staff["auditor"])
    ).json()
    [system] = report["systems"]
    by_name = {c["category"]: c for c in system["categories"]}
    notes = by_name["support_notes"]
    assert notes["records"] == []
    assert notes["refused"]["explanation"] == "The notes are about another customer's order."
    assert "rights and freedoms of others" in notes["refused"]["reason"]
    assert by_name["contact"]["records"] and "Per's order" not in str(report)


async def test_a_rectification_refused_for_one_change_makes_the_others(
    client, staff, worker, runtime
):
    runtime.connectors = registry(crm())
    changes = {"address": "Storgata 2", "name": "Randi Rett"}
    created = await filed(
        client, staff, worker, runtime, "rectification", run=False, details={"changes": changes}
    )
    url = f"/v1/requests/{created['id']}/refuse-part"
    no_evidence = {"field": "name", "reason_code": "accurate", "explanation": "matches her ID"}
    assert (await client.post(url, json=no_evidence, headers=staff["approver"])).status_code == 422
    body = no_evidence | {"evidence": "Passport checked at the counter"}
    assert (await client.post(url, json=body, headers=staff["approver"])).status_code == 200
    whole = body | {"field": "address"}
    assert (await client.post(url, json=whole, headers=staff["approver"])).status_code == 422
    await worker.run_until_idle()
    view = (await client.get(f"/v1/requests/{created['id']}", headers=staff["operator"])).json()
    assert view["details"]["changes"] == {"address": "Storgata 2"}
    assert view["outcome"]["refused_parts"] == [{"field": "name", "reason_code": "accurate"}]
