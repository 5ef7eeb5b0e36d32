"""The planner: the right connector × action tasks per kind of request, in the verifying
transaction; erasure skips exactly what a hold keeps."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from app.connectors.protocol import Capability, HoldFinding
from app.db.models import DsrRequest, LegalHold, Task
from app.services import planning
from tests.jobs.conftest import EMAIL, audit_actions, file_verified, load
from tests.jobs.systems import MemorySystem, category, registry

COLLECT_ONLY = frozenset({Capability.collect})


async def test_no_connectors_waits_for_staff_with_the_reason(runtime):
    request_id = await file_verified(runtime)
    request, tasks = await load(runtime, request_id)
    assert tasks == {}
    assert request.status == "awaiting_manual"  # nothing searched: not done by itself
    assert request.outcome is None
    actions = await audit_actions(runtime, request_id)
    assert actions[-3:] == ["request.verify", "request.start", "request.await_manual"]


async def test_tasks_are_created_with_the_state_change(runtime):
    runtime.connectors = registry(MemorySystem("crm"), MemorySystem("shop"))
    request_id = await file_verified(runtime)
    request, tasks = await load(runtime, request_id)
    assert request.status == "in_progress"
    assert {(t.connector, t.action, t.status) for t in tasks.values()} == {
        ("crm", "collect", "pending"),
        ("shop", "collect", "pending"),
    }


async def test_a_failing_plan_leaves_no_request_nor_tasks_behind(runtime, monkeypatch):
    """Filing, verifying and planning are one unit of work."""
    runtime.connectors = registry(MemorySystem("crm"))

    async def refuse(*_args):
        raise RuntimeError("planning aborted")

    monkeypatch.setattr(planning, "first_tasks", refuse)
    with pytest.raises(RuntimeError, match="planning aborted"):
        await file_verified(runtime)
    async with runtime.db.session() as session:
        assert list(await session.exec(select(Task))) == []
        assert list(await session.exec(select(DsrRequest))) == []


async def test_access_collects_from_every_system_that_can(runtime, worker):
    runtime.connectors = registry(
        MemorySystem("crm"),
        MemorySystem("archive", capabilities=frozenset({Capability.erase})),
    )
    request_id = await file_verified(runtime)
    _, tasks = await load(runtime, request_id)
    assert {(t.connector, t.action) for t in tasks.values()} == {("crm", "collect")}


async def test_portability_keeps_only_what_the_person_provided(runtime, worker):
    crm = MemorySystem(
        "crm",
        categories=[category("contact"), category("credit_score", provided_by_subject=False)],
    )
    crm.seed(EMAIL, "contact", {"email": EMAIL})
    crm.seed(EMAIL, "credit_score", {"score": 7})
    runtime.connectors = registry(crm)
    request_id = await file_verified(runtime, "portability")
    await worker.run_until_idle()

    request, tasks = await load(runtime, request_id)
    assert request.status == "completed"
    assert tasks["crm"].params == {"only_categories": ["contact"]}
    assert tasks["crm"].result["categories"] == {"contact": 1}


async def test_rectification_and_restriction_reach_their_systems(runtime, worker):
    crm = MemorySystem("crm")
    crm.seed(EMAIL, "contact", {"address": "Old street 1"})
    runtime.connectors = registry(crm)
    fix = await file_verified(
        runtime, "rectification", details={"changes": {"address": "Storgata 1"}}
    )
    stop = await file_verified(runtime, "restriction")
    await worker.run_until_idle()

    assert crm.data[EMAIL]["contact"] == [{"address": "Storgata 1"}]
    assert EMAIL in crm.restricted
    fixed, tasks = await load(runtime, fix)
    assert fixed.status == "completed"
    assert tasks["crm"].result["categories"][0]["outcome"] == "rectified"
    stopped, tasks = await load(runtime, stop)
    assert stopped.status == "completed"
    assert tasks["crm"].params == {"lift": False}


async def test_erasure_checks_holds_first_and_erases_only_what_is_not_held(runtime, worker):
    invoice_hold = HoldFinding(
        basis_code="bookkeeping_primary",
        categories=["invoices"],
        until=date(2031, 12, 31),
        condition="5 years after the financial year",
        reference="INV-1001",
    )
    billing = MemorySystem(
        "billing", categories=[category("contact"), category("invoices")], holds=[invoice_hold]
    )
    billing.seed(EMAIL, "contact", {"email": EMAIL})
    billing.seed(EMAIL, "invoices", {"invoice": "INV-1001"})
    newsletter = MemorySystem(
        "newsletter",
        categories=[category("subscriptions", marketing=True)],
        capabilities=frozenset({Capability.collect, Capability.erase}),
    )
    newsletter.seed(EMAIL, "subscriptions", {"list": "weekly"})
    runtime.connectors = registry(billing, newsletter)
    request_id = await file_verified(runtime, "erasure")

    _, tasks = await load(runtime, request_id)
    assert {(t.connector, t.action, t.phase) for t in tasks.values()} == {("billing", "holds", 1)}
    await worker.run_until_idle()

    request, tasks = await load(runtime, request_id)
    assert request.status == "completed"
    assert tasks["billing:erase"].params["categories"] == ["contact"]
    assert tasks["newsletter"].params["categories"] == ["subscriptions"]
    assert billing.data[EMAIL] == {"invoices": [{"invoice": "INV-1001"}]}  # kept
    assert newsletter.data[EMAIL] == {}
    [held] = request.outcome["connectors"]["billing"]["held"]
    assert held == {
        "category": "invoices",
        "outcome": "held",
        "count": 0,
        "basis_code": "bookkeeping_primary",
        "reason": "5 years after the financial year",
        "until": "2031-12-31",
        "source": "connector",
        "fields": [],
        "restricted": True,  # the memory system can restrict: held data is storage-only
    }
    # The finding is a legal hold of its own, so it can lapse and trigger a follow-up.
    async with runtime.db.session() as session:
        [hold] = list(await session.exec(select(LegalHold)))
    assert (hold.connector, hold.categories, hold.request_id) == (
        "billing",
        ["invoices"],
        request_id,
    )


async def test_everything_held_means_no_call_and_a_recorded_hold(runtime, worker):
    hold = HoldFinding(basis_code="outstanding_claim", categories=["contact"])
    crm = MemorySystem("crm", holds=[hold])
    crm.seed(EMAIL, "contact", {"email": EMAIL})
    runtime.connectors = registry(crm)
    request_id = await file_verified(runtime, "erasure")
    await worker.run_until_idle()

    request, tasks = await load(runtime, request_id)
    assert request.status == "completed"
    assert crm.calls.counts == {"holds": 1, "restrict": 1}  # erase was never called
    assert EMAIL in crm.restricted  # what is kept is kept restricted
    assert tasks["crm:erase"].status == "succeeded"
    assert tasks["crm:erase"].attempts == 0
    assert crm.data[EMAIL] == {"contact": [{"email": EMAIL}]}


async def test_objection_erases_only_direct_marketing(runtime, worker):
    cats = [category("contact"), category("newsletter", marketing=True)]
    crm = MemorySystem("crm", categories=cats, capabilities=frozenset({Capability.erase}))
    crm.seed(EMAIL, "contact", {"email": EMAIL})
    crm.seed(EMAIL, "newsletter", {"list": "offers"})
    shop = MemorySystem("shop", capabilities=frozenset({Capability.erase}))  # no marketing data
    runtime.connectors = registry(crm, shop)
    request_id = await file_verified(runtime, "objection")
    await worker.run_until_idle()

    request, tasks = await load(runtime, request_id)
    assert request.status == "completed"
    assert set(tasks) == {"crm"}
    assert tasks["crm"].params["categories"] == ["newsletter"]
    assert crm.data[EMAIL] == {"contact": [{"email": EMAIL}]}


async def test_withdrawing_consent_erases_only_consent_based_data(runtime, worker):
    cats = [category("contact"), category("cookies", consent_based=True)]
    web = MemorySystem("web", categories=cats, capabilities=frozenset({Capability.erase}))
    web.seed(EMAIL, "cookies", {"id": "c-1"})
    web.seed(EMAIL, "contact", {"email": EMAIL})
    runtime.connectors = registry(web)
    request_id = await file_verified(runtime, "withdraw_consent")
    await worker.run_until_idle()

    _, tasks = await load(runtime, request_id)
    assert tasks["web"].params["categories"] == ["cookies"]
    assert web.data[EMAIL] == {"contact": [{"email": EMAIL}]}


async def test_withdrawn_requests_do_not_run_their_pending_tasks(runtime, worker):
    from app.services import flows
    from tests.jobs.conftest import OPERATOR

    crm = MemorySystem("crm")
    runtime.connectors = registry(crm)
    request_id = await file_verified(runtime)
    async with runtime.db.session() as session:
        await flows.withdraw(
            runtime, session, request_id, principal=OPERATOR, token=None, reason=None
        )

    await worker.run_until_idle()

    request, tasks = await load(runtime, request_id)
    assert request.status == "withdrawn"
    assert tasks["crm"].status == "cancelled"
    assert crm.calls.counts == {}
    assert "task.cancelled" in await audit_actions(runtime, request_id)
