"""Held data is restricted: a system that can restrict marks what an erasure keeps under a
hold as storage-only, the letter says "kept, restricted", and the follow-up erasure that
removes it when the hold ends lifts the mark."""

from __future__ import annotations

from datetime import date
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from app.connectors.protocol import HoldFinding
from tests.jobs.systems import MemorySystem, category, registry

EMAIL = "kari@example.no"


def billing() -> MemorySystem:
    system = MemorySystem(
        "billing",
        categories=[category("invoices"), category("contact")],
        holds=[
            HoldFinding(
                basis_code="outstanding_claim",
                categories=["invoices"],
                until=date(2029, 2, 15),
                condition="until the invoice is settled, written off or time-barred",
                reference="invoice 10002",
            )
        ],
    )
    system.seed(EMAIL, "invoices", {"invoice": "10002", "amount": 990})
    system.seed(EMAIL, "contact", {"email": EMAIL})
    return system


async def view_of(client, staff, request_id: str) -> dict[str, Any]:
    response = await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])
    return dict(response.json())


def last_letter(settings) -> str:
    [*_, newest] = sorted(Path(settings.outbox_dir).glob("*.eml"))
    return str(message_from_bytes(newest.read_bytes(), policy=policy.default).get_content())


async def test_held_data_is_restricted_then_erased_and_lifted(
    client, staff, runtime, worker, settings
) -> None:
    system = billing()
    runtime.connectors = registry(system)
    created = await client.post(
        "/v1/requests",
        json={
            "kind": "erasure",
            "language": "en",
            "subject": {"email": EMAIL},
            "verification": {"method": "staff", "note": "known customer"},
        },
        headers=staff["operator"],
    )
    assert created.status_code == 201, created.text
    await worker.run_until_idle()
    view = await view_of(client, staff, created.json()["id"])
    assert view["status"] == "completed"
    tasks = {t["action"]: t for t in view["tasks"]}
    assert tasks["restrict"]["status"] == "succeeded"
    assert [c["outcome"] for c in tasks["restrict"]["result"]["categories"]] == ["restricted"]
    [held] = [c for c in tasks["erase"]["result"]["categories"] if c["outcome"] == "held"]
    assert (held["category"], held["restricted"], held["until"]) == ("invoices", True, "2029-02-15")
    assert system.data[EMAIL] == {"invoices": [{"invoice": "10002", "amount": 990}]}
    assert EMAIL in system.restricted  # kept, and storage only
    letter = last_letter(settings)
    assert "We have restricted them: they are stored" in letter
    assert "15 February 2029" in letter

    # Paid: the hold is released and the follow-up erases the invoice and lifts the mark.
    system.holds = []
    listed = await client.get(
        "/v1/holds", params={"request_id": view["id"]}, headers=staff["auditor"]
    )
    [hold] = listed.json()["items"]
    released = await client.post(
        f"/v1/holds/{hold['id']}/release",
        json={"reason": "invoice 10002 paid"},
        headers=staff["approver"],
    )
    assert released.status_code == 200, released.text
    follow_up_id = released.json()["follow_up_request_id"]
    assert follow_up_id
    await worker.run_until_idle()
    follow_up = await view_of(client, staff, follow_up_id)
    assert follow_up["status"] == "completed"
    actions = {t["action"]: t for t in follow_up["tasks"]}
    assert [c["outcome"] for c in actions["restrict"]["result"]["categories"]] == ["lifted"]
    assert actions["restrict"]["status"] == "succeeded"
    assert system.data[EMAIL] == {}
    assert EMAIL not in system.restricted


async def test_a_system_that_cannot_restrict_is_not_asked(client, staff, runtime, worker) -> None:
    from app.connectors.protocol import Capability

    system = billing()
    system.capabilities = frozenset({Capability.collect, Capability.erase, Capability.holds})
    runtime.connectors = registry(system)
    created = await client.post(
        "/v1/requests",
        json={
            "kind": "erasure",
            "subject": {"email": EMAIL},
            "verification": {"method": "staff", "note": "known customer"},
        },
        headers=staff["operator"],
    )
    await worker.run_until_idle()
    view = await view_of(client, staff, created.json()["id"])
    assert view["status"] == "completed"
    assert "restrict" not in {t["action"] for t in view["tasks"]}
    [held] = [
        c
        for t in view["tasks"]
        if t["action"] == "erase"
        for c in t["result"]["categories"]
        if c["outcome"] == "held"
    ]
    assert "restricted" not in held
