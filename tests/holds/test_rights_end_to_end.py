"""Erasure keeps exactly what holds cover and tells the person; objection suppresses for
good; a hold that ends leads to erasing exactly what it kept; withdrawal stops the work."""

from __future__ import annotations

import re
from datetime import date
from email import message_from_bytes, policy
from pathlib import Path

from app.connectors.protocol import HoldFinding
from tests.jobs.systems import MemorySystem, category, registry

EMAIL = "kari.nordmann@example.no"


def systems() -> tuple[MemorySystem, MemorySystem]:
    billing = MemorySystem(
        "billing",
        categories=[category("invoices"), category("contact")],
        holds=[
            HoldFinding(
                basis_code="outstanding_claim",
                categories=["invoices"],
                until=date(2029, 10, 29),
                condition="until the invoice is settled",
                reference="invoice 10002",
            )
        ],
    )
    billing.seed(EMAIL, "invoices", {"invoice": "10002", "amount": 990})
    billing.seed(EMAIL, "contact", {"email": EMAIL})
    crm = MemorySystem(
        "crm",
        categories=[
            category("contact"),
            category("newsletter", marketing=True, consent_based=True),
        ],
    )
    crm.seed(EMAIL, "contact", {"email": EMAIL})
    crm.seed(EMAIL, "newsletter", {"subscribed": True})
    return billing, crm


def letters_to(settings) -> list[str]:
    folder = Path(settings.outbox_dir)
    return [
        message_from_bytes(p.read_bytes(), policy=policy.default).get_content()
        for p in sorted(folder.glob("*.eml"))
    ]


async def file(client, staff, kind: str, **extra) -> dict:
    response = await client.post(
        "/v1/requests",
        json={
            "kind": kind,
            "language": "en",
            "subject": {"email": EMAIL},
            "verification": {"method": "staff", "note": "known customer"},
        }
        | extra,
        headers=staff["operator"],
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_erasure_keeps_the_held_invoice_and_tells_the_person(
    client, staff, runtime, worker, settings
):
    billing, crm = systems()
    runtime.connectors = registry(billing, crm)
    created = await file(client, staff, "erasure")
    await worker.run_until_idle()

    view = (await client.get(f"/v1/requests/{created['id']}", headers=staff["operator"])).json()
    assert view["status"] == "completed"
    assert billing.data[EMAIL] == {"invoices": [{"invoice": "10002", "amount": 990}]}
    assert crm.data.get(EMAIL, {}) == {}
    held = view["outcome"]["connectors"]["billing"]["held"]
    assert [(h["category"], h["basis_code"], h["until"]) for h in held] == [
        ("invoices", "outstanding_claim", "2029-10-29")
    ]
    assert [h["basis_code"] for h in view["holds"]] == ["outstanding_claim"]
    letter = letters_to(settings)[-1]
    assert "invoices" in letter
    assert "unpaid invoice" in letter  # the basis in plain words
    assert "29 October 2029" in letter
    assert "Datatilsynet" in letter


async def test_released_hold_leads_to_erasing_exactly_what_it_kept(client, staff, runtime, worker):
    billing, crm = systems()
    runtime.connectors = registry(billing, crm)
    created = await file(client, staff, "erasure")
    await worker.run_until_idle()
    [hold] = (
        await client.get(
            "/v1/holds", params={"request_id": created["id"]}, headers=staff["auditor"]
        )
    ).json()["items"]

    billing.holds = []  # the invoice is paid
    released = await client.post(
        f"/v1/holds/{hold['id']}/release",
        json={"reason": "invoice paid"},
        headers=staff["approver"],
    )
    assert released.status_code == 200
    follow_up = released.json()["follow_up_request_id"]
    await worker.run_until_idle()
    view = (await client.get(f"/v1/requests/{follow_up}", headers=staff["operator"])).json()
    assert view["status"] == "completed"
    assert sorted(view["outcome"]["connectors"]) == ["billing"]  # only that system
    assert billing.data.get(EMAIL, {}) == {}


async def test_objection_erases_marketing_and_suppresses_for_good(client, staff, runtime, worker):
    billing, crm = systems()
    runtime.connectors = registry(billing, crm)
    await file(client, staff, "objection")
    await worker.run_until_idle()
    assert "newsletter" not in crm.data[EMAIL]
    assert crm.data[EMAIL]["contact"]  # only direct marketing is reached
    check = await client.post(
        "/v1/suppression/check", json={"email": EMAIL.upper()}, headers=staff["operator"]
    )
    assert check.json() == {"suppressed": True}
    other = await client.post(
        "/v1/suppression/check", json={"email": "ola@example.no"}, headers=staff["operator"]
    )
    assert other.json() == {"suppressed": False}


async def test_withdrawal_cancels_what_has_not_run(client, staff, runtime, worker):
    billing, crm = systems()
    runtime.connectors = registry(billing, crm)
    created = await file(client, staff, "access")
    response = await client.post(
        f"/v1/requests/{created['id']}/withdraw", json={}, headers=staff["operator"]
    )
    assert response.status_code == 200
    view = (await client.get(f"/v1/requests/{created['id']}", headers=staff["operator"])).json()
    assert {t["status"] for t in view["tasks"]} == {"cancelled"}
    await worker.run_until_idle()
    assert crm.calls.counts == {}
    assert re.match(r"^withdrawn$", view["status"])
