"""Every request reaches every connector, all at once, within each connector's limits."""

from __future__ import annotations

import asyncio

import pytest
from cryptography.exceptions import InvalidTag
from sqlmodel import select

from app.db.models import CollectedData
from app.db.models.tasks import collected_purpose
from app.services import tasks as task_service
from tests.jobs.conftest import EMAIL, eventually, file_verified, load
from tests.jobs.systems import MemorySystem, category, instance, registry


async def test_a_request_reaches_every_connector_at_the_same_time(runtime, worker):
    systems = [MemorySystem(f"system-{i}") for i in range(5)]
    gate = asyncio.Event()
    for system in systems:
        system.seed(EMAIL, "contact", {"email": EMAIL, "n": system.name})
        system.gate = gate
    runtime.connectors = registry(*systems)
    request_id = await file_verified(runtime)

    run = asyncio.create_task(worker.run_until_idle())
    # All five calls are in flight together before any is let through: not one after another.
    await eventually(lambda: all(s.calls.running == 1 for s in systems))
    gate.set()
    await run

    request, tasks = await load(runtime, request_id)
    assert request.status == "completed"
    assert {t.status for t in tasks.values()} == {"succeeded"}
    assert {t.attempts for t in tasks.values()} == {1}
    assert sorted(request.outcome["connectors"]) == [s.name for s in systems]
    assert request.outcome["connectors"]["system-0"]["actions"]["collect"]["records"] == 1


async def test_collected_data_is_stored_sealed_once_per_task(runtime, worker):
    crm = MemorySystem("crm", categories=[category("contact"), category("orders")])
    crm.seed(EMAIL, "contact", {"email": EMAIL, "name": "Kari Nordmann"})
    crm.seed(EMAIL, "orders", {"order": "A-1"}, {"order": "A-2"})
    runtime.connectors = registry(crm)
    request_id = await file_verified(runtime)
    await worker.run_until_idle()

    async with runtime.db.session() as session:
        [row] = list(await session.exec(select(CollectedData)))
        opened = await task_service.collected_for(runtime, session, request_id)
    assert row.record_count == 3
    assert EMAIL not in row.ciphertext and "Kari" not in row.ciphertext  # sealed at rest
    assert [r["category"] for r in opened["crm"]["records"]] == ["contact", "orders", "orders"]
    # Bound to its task: the blob cannot be opened as another task's data.
    with pytest.raises(InvalidTag):
        runtime.cipher.open(row.ciphertext, purpose=collected_purpose(request_id, "tsk_other"))
    _, tasks = await load(runtime, request_id)
    assert tasks["crm"].result == {
        "records": 3,
        "categories": {"contact": 1, "orders": 2},
        "external_controller": None,
        "self_service_url": None,
    }


async def test_per_connector_limit_holds_while_many_requests_run_side_by_side(runtime, worker):
    narrow, wide = MemorySystem("narrow"), MemorySystem("wide")
    narrow.gate, wide.gate = asyncio.Event(), asyncio.Event()
    runtime.connectors.add(instance(narrow, concurrency=2))
    runtime.connectors.add(instance(wide, concurrency=16))
    for i in range(8):
        await file_verified(runtime, email=f"person{i}@example.no")

    run = asyncio.create_task(worker.run_until_idle())
    # The eight requests run side by side; the narrow system gets two calls at a time.
    await eventually(lambda: wide.calls.running == 8 and narrow.calls.running == 2)
    wide.gate.set()
    await eventually(lambda: wide.calls.counts == {"collect": 8} and wide.calls.running == 0)
    assert narrow.calls.running == 2  # still waiting at the gate: no third call started
    narrow.gate.set()
    await run

    assert narrow.calls.counts == {"collect": 8}
    assert narrow.calls.peak == 2


async def test_a_slow_connector_is_cut_off_at_its_timeout(runtime, worker):
    slow = MemorySystem("slow", delay=30)
    fast = MemorySystem("fast")
    runtime.connectors.add(instance(slow, timeout_seconds=0.05, max_attempts=2))
    runtime.connectors.add(instance(fast))
    request_id = await file_verified(runtime)

    await worker.run_until_idle()

    request, tasks = await load(runtime, request_id)
    assert tasks["slow"].status == "failed"
    assert tasks["slow"].attempts == 2
    assert tasks["slow"].error_kind == "timeout"
    assert tasks["slow"].last_error == "no answer within 0.05 s"
    assert tasks["fast"].status == "succeeded"
    assert request.status == "awaiting_manual"  # staff decide: retry, or close it by hand


async def test_the_staff_view_lists_each_task(runtime, worker, client, staff):
    runtime.connectors = registry(MemorySystem("crm"), MemorySystem("shop"))
    request_id = await file_verified(runtime)
    await worker.run_until_idle()

    response = await client.get(f"/v1/requests/{request_id}", headers=staff["auditor"])
    assert response.status_code == 200
    view = response.json()
    assert view["status"] == "completed"
    assert [(t["connector"], t["action"], t["status"]) for t in view["tasks"]] == [
        ("crm", "collect", "succeeded"),
        ("shop", "collect", "succeeded"),
    ]
    task = view["tasks"][0]
    for key in ("id", "attempts", "last_error", "started_at", "finished_at", "duration_seconds"):
        assert key in task
    assert task["attempts"] == 1 and task["last_error"] is None
