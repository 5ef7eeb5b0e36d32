"""Holds that last "while a condition holds" end by themselves when the connector stops finding
them: the invoice is paid, the re-check ends the claim hold, and the follow-up erasure removes
exactly what it kept, unless the bookkeeping period still keeps it. Errors never end a hold.

The invoicing database is the one of the invoicing connector tests (today is 2 March 2026):
Dana has a paid 2025 invoice and an unpaid 2026 one (a claim, and two bookkeeping years);
Frida's only invoice, from 2018, is made unpaid here, its due date deferred to 14 March 2025:
a claim until 2028 (foreldelsesloven §§ 2-3), with no bookkeeping left.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from structlog.testing import capture_logs

from app.connectors.builtin.invoicing import InvoicingConnector
from app.connectors.protocol import HoldFinding
from app.connectors.registry import ConnectorInstance, ConnectorRegistry
from app.services.hold_recheck import recheck_conditions
from tests.connectors.builtin.test_invoicing_support import (
    DANA,
    FRIDA,
    Customer,
    create_invoicing,
    invoicing_config,
)
from tests.connectors.builtin.test_sql_support import ScratchDb, scratch_database
from tests.jobs.systems import Broken, MemorySystem, category, registry

EMAIL = "kari.nordmann@example.no"
# The same customers and invoices, at addresses a request accepts.
DANA = Customer(DANA.id, "dana.dahl@example.no", DANA.name, DANA.ref)
FRIDA = Customer(FRIDA.id, "frida.fjeld@example.no", FRIDA.name, FRIDA.ref)
HELD = ["billing", "invoices"]


@dataclass
class Billing:
    db: ScratchDb
    connector: InvoicingConnector

    async def sql(self, statement: str, **params: Any) -> list[tuple[Any, ...]]:
        engine = create_async_engine(self.db.url)
        prefix = f'"{self.db.schema}".' if self.db.schema else ""
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(statement.format(t=prefix)), params)
                return [tuple(r) for r in result.all()] if result.returns_rows else []
        finally:
            await engine.dispose()

    async def pay(self, invoice: int) -> None:
        await self.sql(
            "UPDATE {t}invoices SET paid_at = due_at, status = 'paid' WHERE id = :id", id=invoice
        )

    async def invoices_of(self, customer_id: int) -> list[int]:
        rows = await self.sql(
            "SELECT id FROM {t}invoices WHERE customer_ref = :c ORDER BY id", c=customer_id
        )
        return [r[0] for r in rows]


@pytest.fixture
async def billing(backend: str, tmp_path: Path, runtime, clock) -> AsyncIterator[Billing]:
    async with scratch_database(backend, tmp_path) as db:
        await create_invoicing(db, [DANA, FRIDA])
        connector = InvoicingConnector(
            name="billing", config=invoicing_config(db), today=lambda: clock.now().date()
        )
        system = Billing(db, connector)
        await system.sql(
            "UPDATE {t}invoices SET paid_at = NULL, status = 'sent', due_at = :due WHERE id = 31",
            due=date(2025, 3, 14),
        )
        runtime.connectors = ConnectorRegistry.of(
            [ConnectorInstance(name="billing", kind="invoicing", connector=connector)]
        )
        try:
            yield system
        finally:
            await connector.aclose()


async def erase(client, staff, worker, email: str) -> str:
    response = await client.post(
        "/v1/requests",
        json={
            "kind": "erasure",
            "language": "en",
            "subject": {"email": email},
            "verification": {"method": "staff", "note": "known customer"},
        },
        headers=staff["operator"],
    )
    assert response.status_code == 201, response.text
    await worker.run_until_idle()
    return str(response.json()["id"])


async def holds_of(client, staff, request_id: str) -> dict[str, dict[str, Any]]:
    """The request's holds by basis and reference."""
    response = await client.get(
        "/v1/holds", params={"request_id": request_id}, headers=staff["auditor"]
    )
    return {f"{h['basis_code']}: {h['reference']}": h for h in response.json()["items"]}


async def test_paid_invoice_ends_the_claim_and_the_follow_up_erases_what_it_kept(
    client, staff, runtime, worker, billing
):
    request_id = await erase(client, staff, worker, FRIDA.email)
    [claim] = (await holds_of(client, staff, request_id)).values()
    assert (claim["basis_code"], claim["reference"], claim["categories"]) == (
        "outstanding_claim",
        "invoice 31",
        HELD,
    )
    assert claim["until"] == "2028-03-14"  # time-barred after that, if never paid
    assert await billing.invoices_of(FRIDA.id) == [31]  # kept by the claim

    await billing.pay(31)
    assert await recheck_conditions(runtime) == 1

    ended = (await holds_of(client, staff, request_id))["outstanding_claim: invoice 31"]
    assert (ended["status"], ended["ended_by"]) == ("ended", "system:innsyn")
    follow_up = ended["follow_up_request_id"]
    assert follow_up
    await worker.run_until_idle()
    view = (await client.get(f"/v1/requests/{follow_up}", headers=staff["operator"])).json()
    assert view["status"] == "completed"
    assert view["details"]["follow_up"] == {
        "hold_id": ended["id"],
        "connector": "billing",
        "categories": [*HELD, "marketing"],  # what it kept, and what was erased before
        "blocked_request_id": request_id,
    }
    erased = view["outcome"]["connectors"]["billing"]["actions"]["erase"]["categories"]
    assert {c["category"] for c in erased} == {*HELD, "marketing"}
    assert {(c["category"], c["outcome"], c["count"]) for c in erased} >= {
        ("invoices", "erased", 1),
        ("billing", "erased", 2),
    }
    assert await billing.invoices_of(FRIDA.id) == []
    # Asked again for the marketing flag too, the system can now drop the customer row.
    assert (await billing.connector.collect(FRIDA.subject())).records == []

    trail = await client.get(
        "/v1/audit", params={"request_id": request_id}, headers=staff["auditor"]
    )
    events = [(e["action"], e["actor"]) for e in trail.json()["items"]]
    assert ("hold.ended", "system:innsyn") in events
    assert trail.json()["chain"]["verified"] is True


async def test_bookkeeping_still_keeps_what_a_paid_claim_kept(
    client, staff, runtime, worker, billing
):
    request_id = await erase(client, staff, worker, DANA.email)
    held = await holds_of(client, staff, request_id)
    assert sorted(held) == [
        "bookkeeping_primary: financial year ending 2025-12-31: 1 invoice(s)",
        "bookkeeping_primary: financial year ending 2026-12-31: 1 invoice(s)",
        "outstanding_claim: invoice 13",
    ]
    assert await billing.invoices_of(DANA.id) == [11, 12, 13]  # held categories are not sent

    await billing.pay(13)
    assert await recheck_conditions(runtime) == 1

    after = await holds_of(client, staff, request_id)
    claim = after.pop("outstanding_claim: invoice 13")
    assert claim["status"] == "ended"
    assert claim["follow_up_request_id"] is None  # the bookkeeping holds keep the same data
    now = runtime.clock.now().isoformat().replace("+00:00", "Z")
    assert {(h["status"], h["last_checked_at"]) for h in after.values()} == {("active", now)}
    assert await billing.invoices_of(DANA.id) == [11, 12, 13]


async def test_a_bookkeeping_period_that_has_run_out_ends_its_hold(
    client, staff, runtime, worker, billing, clock
):
    """Bookkeeping holds carry a condition too, so no date expires them: the re-check does."""
    request_id = await erase(client, staff, worker, DANA.email)
    clock.set(datetime(2031, 1, 2, 9, 0, tzinfo=UTC))  # the 2025 year's five years are over
    assert await recheck_conditions(runtime) == 2
    states = {k: h["status"] for k, h in (await holds_of(client, staff, request_id)).items()}
    assert states == {
        "bookkeeping_primary: financial year ending 2025-12-31: 1 invoice(s)": "ended",
        "bookkeeping_primary: financial year ending 2026-12-31: 1 invoice(s)": "active",
        "outstanding_claim: invoice 13": "ended",  # still unpaid, but time-barred since 2029
    }


async def test_unpaid_invoice_keeps_the_hold_and_checks_wait_for_the_interval(
    client, staff, runtime, worker, billing, clock
):
    request_id = await erase(client, staff, worker, FRIDA.email)
    assert await recheck_conditions(runtime) == 0  # still unpaid
    [hold] = (await holds_of(client, staff, request_id)).values()
    assert hold["status"] == "active"
    assert hold["last_checked_at"] == "2026-03-02T09:00:00Z"

    await billing.pay(31)
    clock.advance(timedelta(hours=23, minutes=59))
    assert await recheck_conditions(runtime) == 0  # checked less than a day ago: not asked
    [hold] = (await holds_of(client, staff, request_id)).values()
    assert (hold["status"], hold["last_checked_at"]) == ("active", "2026-03-02T09:00:00Z")

    clock.advance(timedelta(minutes=1))
    assert await recheck_conditions(runtime) == 1


async def test_a_connector_without_the_holds_capability_or_not_configured_is_not_asked(
    client, staff, runtime, worker, billing
):
    request_id = await erase(client, staff, worker, FRIDA.email)
    await billing.pay(31)
    runtime.connectors = registry(MemorySystem("crm"))
    assert await recheck_conditions(runtime) == 0
    [hold] = (await holds_of(client, staff, request_id)).values()
    assert (hold["status"], hold["last_checked_at"]) == ("active", None)
    response = await client.post(f"/v1/holds/{hold['id']}/recheck", headers=staff["operator"])
    assert response.status_code == 409
    assert "no configured connector 'billing' finds holds" in response.json()["detail"]
    runtime.connectors = registry(MemorySystem("billing", capabilities=frozenset()))
    assert await recheck_conditions(runtime) == 0
    [hold] = (await holds_of(client, staff, request_id)).values()
    assert (hold["status"], hold["last_checked_at"]) == ("active", None)


def memory_billing(*references: str, error: str = "none") -> Broken:
    system = Broken(
        "billing",
        error=error,
        categories=[category("invoices"), category("contact")],
        holds=[
            HoldFinding(
                basis_code="outstanding_claim",
                categories=["invoices"],
                until=date(2029, 10, 29),
                condition="until the invoice is settled",
                reference=reference,
            )
            for reference in references
        ],
    )
    system.seed(EMAIL, "invoices", {"invoice": "10002", "amount": 990})
    system.seed(EMAIL, "contact", {"email": EMAIL})
    return system


async def test_a_connector_error_never_ends_a_hold_and_the_next_run_asks_again(
    client, staff, runtime, worker
):
    system = memory_billing("invoice 10002")
    runtime.connectors = registry(system)
    request_id = await erase(client, staff, worker, EMAIL)
    system.holds = []  # paid, but the system cannot say so yet
    system.error = "other"  # a RuntimeError whose text names the person

    with capture_logs() as logs:
        assert await recheck_conditions(runtime) == 0
    [hold] = (await holds_of(client, staff, request_id)).values()
    assert (hold["status"], hold["last_checked_at"]) == ("active", None)
    [failed] = [e for e in logs if e["event"] == "hold_recheck_failed"]
    assert (failed["hold_id"], failed["connector"], failed["error_kind"]) == (
        hold["id"],
        "billing",
        "internal",
    )
    assert EMAIL not in repr(logs)

    response = await client.post(f"/v1/holds/{hold['id']}/recheck", headers=staff["operator"])
    assert response.status_code == 409
    assert response.json()["error_kind"] == "internal"
    assert EMAIL not in response.text

    system.error = "none"
    assert await recheck_conditions(runtime) == 1  # the next run, no day's wait
    [hold] = (await holds_of(client, staff, request_id)).values()
    assert hold["status"] == "ended"
    await worker.run_until_idle()
    assert system.data[EMAIL] == {}  # the follow-up erased the invoices it kept


async def test_staff_recheck_one_hold_now(client, staff, runtime, worker):
    system = memory_billing("invoice 10002")
    runtime.connectors = registry(system)
    request_id = await erase(client, staff, worker, EMAIL)
    [hold] = (await holds_of(client, staff, request_id)).values()
    assert await recheck_conditions(runtime) == 0  # checked just now by the schedule

    still = await client.post(f"/v1/holds/{hold['id']}/recheck", headers=staff["operator"])
    assert still.status_code == 200, still.text
    assert (still.json()["status"], still.json()["last_checked_at"]) == (
        "active",
        "2026-03-02T09:00:00Z",
    )
    assert system.calls.counts["holds"] == 3  # the erasure, the schedule, and staff now

    system.holds = []
    ended = await client.post(f"/v1/holds/{hold['id']}/recheck", headers=staff["operator"])
    assert ended.status_code == 200
    assert (ended.json()["status"], ended.json()["ended_by"]) == ("ended", "staff:operator-1")
    assert ended.json()["follow_up_request_id"]
    again = await client.post(f"/v1/holds/{hold['id']}/recheck", headers=staff["operator"])
    assert again.status_code == 409
    missing = await client.post("/v1/holds/hold_nope/recheck", headers=staff["operator"])
    assert missing.status_code == 404
    listed = await client.get("/v1/holds", params={"status": "ended"}, headers=staff["auditor"])
    assert [h["id"] for h in listed.json()["items"]] == [hold["id"]]


async def test_staff_placed_holds_are_not_rechecked(client, staff, runtime):
    runtime.connectors = registry(memory_billing())
    placed = await client.post(
        "/v1/holds",
        json={
            "basis_code": "legal_claim",
            "connector": "billing",
            "categories": ["invoices"],
            "reason": "Dispute about delivery; lawyer involved",
            "subject": {"email": EMAIL},
            "condition": "until the dispute is settled",
        },
        headers=staff["approver"],
    )
    assert placed.status_code == 201, placed.text
    assert await recheck_conditions(runtime) == 0
    response = await client.post(
        f"/v1/holds/{placed.json()['id']}/recheck", headers=staff["operator"]
    )
    assert response.status_code == 409
    view = await client.get("/v1/holds", headers=staff["auditor"])
    assert [(h["status"], h["last_checked_at"]) for h in view.json()["items"]] == [("active", None)]


async def test_a_run_is_bounded_and_asks_the_longest_unchecked_first(
    client, staff, runtime, worker, clock
):
    system = memory_billing("invoice 1", "invoice 2", "invoice 3")
    runtime.connectors = registry(system)
    await erase(client, staff, worker, EMAIL)
    asked = system.calls.counts["holds"]
    assert await recheck_conditions(runtime, limit=2) == 0
    assert system.calls.counts["holds"] == asked + 2
    clock.advance(timedelta(minutes=15))
    assert await recheck_conditions(runtime, limit=2) == 0
    assert system.calls.counts["holds"] == asked + 3  # only the one not yet checked is due
    view = await client.get("/v1/holds", headers=staff["auditor"])
    assert sorted(h["last_checked_at"] for h in view.json()["items"]) == [
        "2026-03-02T09:00:00Z",
        "2026-03-02T09:00:00Z",
        "2026-03-02T09:15:00Z",
    ]


async def test_two_runs_at_once_ask_about_a_hold_once(client, staff, runtime, worker):
    system = memory_billing("invoice 10002")
    runtime.connectors = registry(system)
    request_id = await erase(client, staff, worker, EMAIL)
    asked = system.calls.counts["holds"]
    system.holds = []
    system.gate = asyncio.Event()  # the first run's call waits inside the connector

    first = asyncio.create_task(recheck_conditions(runtime))
    while system.calls.running == 0 and not first.done():
        await asyncio.sleep(0.01)
    assert await recheck_conditions(runtime) == 0  # the claimed hold is not due for the second
    system.gate.set()
    assert await first == 1
    assert system.calls.counts["holds"] == asked + 1
    [hold] = (await holds_of(client, staff, request_id)).values()
    assert hold["status"] == "ended"


async def test_the_end_is_announced_as_a_release_webhook(client, staff, runtime, worker):
    system = memory_billing("invoice 10002")
    runtime.connectors = registry(system)
    hook = await client.post(
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["hold.released"]},
        headers=staff["admin"],
    )
    assert hook.status_code == 201, hook.text
    await erase(client, staff, worker, EMAIL)
    system.holds = []
    assert await recheck_conditions(runtime) == 1
    deliveries = await client.get(
        f"/v1/webhooks/{hook.json()['id']}/deliveries", headers=staff["admin"]
    )
    assert [d["event_type"] for d in deliveries.json()["items"]] == ["hold.released"]
