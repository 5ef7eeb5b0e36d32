"""Outcomes stay true across crashes: after an attempt that acted and never wrote back, a
retry that finds nothing reports the data as erased by the interrupted attempt, never as
not found; each attempt carries its own idempotency key; a worker whose lease is gone stops
calling out (in-process here; real worker processes in test_processes.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from app.connectors.protocol import Capability, SubjectRef
from app.db.models import Task
from app.domain.attempts import NOTE
from app.jobs import execute, runner
from app.jobs.policy import IMMEDIATE
from app.jobs.queue import claim
from app.jobs.runner import Worker
from tests.jobs.conftest import EMAIL, eventually, file_verified, load
from tests.jobs.systems import MemorySystem, registry


class Keyed(MemorySystem):
    """Remembers the attempt key of every call."""

    def __init__(self, name: str, **kw: Any) -> None:
        super().__init__(name, **kw)
        self.keys: list[str | None] = []

    async def erase(self, subject: SubjectRef, categories):  # type: ignore[no-untyped-def]
        self.keys.append(subject.attempt_key)
        return await super().erase(subject, categories)


async def test_data_erased_by_an_interrupted_attempt_is_reported_erased(
    runtime, worker, clock, client, staff
):
    crm = Keyed("crm", capabilities=frozenset({Capability.erase}))
    crm.seed(EMAIL, "contact", {"email": EMAIL})
    runtime.connectors = registry(crm)
    request_id = await file_verified(runtime, "erasure")
    # A worker erases in the system, then dies before it writes the result back.
    async with runtime.db.session() as session:
        [held] = await claim(
            session, owner="killed", now=clock.now(), lease_seconds=30, limit=1, connectors=["crm"]
        )
    subject = SubjectRef(request_id=request_id, emails=[EMAIL], attempt_key=held.attempt_key)
    instance = runtime.connectors.get("crm")
    await execute.attempt(instance, held.action, held.params, subject, {})
    assert crm.data[EMAIL] == {}

    clock.advance(timedelta(seconds=31))  # no heartbeat: another worker takes it over
    await worker.run_until_idle()

    view = (await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])).json()
    assert view["status"] == "completed"
    erase = view["outcome"]["connectors"]["crm"]["actions"]["erase"]
    assert erase["interrupted_attempts"] == 1
    [contact] = erase["categories"]
    assert contact["outcome"] == "erased"  # not "not_found": this request erased it
    assert (contact["by_interrupted_attempt"], contact["note"]) == (True, NOTE)
    [task] = view["tasks"]
    assert task["attempts"] == 2
    # Each attempt had its own idempotency key.
    assert crm.keys == [f"{task['id']}.1", f"{task['id']}.2"]


async def test_a_retry_that_finds_data_reports_it_as_usual(runtime, worker, clock):
    crm = MemorySystem("crm", capabilities=frozenset({Capability.erase}))
    crm.seed(EMAIL, "contact", {"email": EMAIL})
    runtime.connectors = registry(crm)
    request_id = await file_verified(runtime, "erasure")
    async with runtime.db.session() as session:  # the killed worker never reached the system
        await claim(
            session, owner="killed", now=clock.now(), lease_seconds=30, limit=1, connectors=["crm"]
        )
    clock.advance(timedelta(seconds=31))
    await worker.run_until_idle()
    request, _ = await load(runtime, request_id)
    erase = request.outcome["connectors"]["crm"]["actions"]["erase"]
    assert erase["interrupted_attempts"] == 1  # said, even when it did not matter
    assert [(c["outcome"], c["count"]) for c in erase["categories"]] == [("erased", 1)]


async def test_a_worker_whose_lease_is_taken_stops_its_call(runtime):
    crm = MemorySystem("crm", capabilities=frozenset({Capability.erase}))
    crm.seed(EMAIL, "contact", {"email": EMAIL})
    crm.gate = asyncio.Event()  # the call hangs until the gate opens
    runtime.connectors = registry(crm)
    request_id = await file_verified(runtime, "erasure")
    worker = Worker(runtime, policy=IMMEDIATE, poll_seconds=0.05, lease_seconds=0.6)
    run = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: crm.calls.running == 1)
        _, tasks = await load(runtime, request_id)
        async with runtime.db.session() as session:  # another worker holds it now
            await session.exec(
                update(Task).where(Task.id == tasks["crm"].id).values(lease_owner="other")  # type: ignore[arg-type]
            )
        await eventually(lambda: crm.calls.running == 0)  # the heartbeat cancelled the call
        crm.gate.set()
        await asyncio.sleep(0.3)
        assert crm.data[EMAIL] == {"contact": [{"email": EMAIL}]}  # it never erased
        _, tasks = await load(runtime, request_id)
        assert (tasks["crm"].status, tasks["crm"].lease_owner) == ("running", "other")
    finally:
        worker.stop()
        await run


async def test_a_worker_that_misses_its_heartbeats_stops_calling_out(runtime, monkeypatch):
    crm = MemorySystem("crm", capabilities=frozenset({Capability.erase}))
    crm.seed(EMAIL, "contact", {"email": EMAIL})
    crm.gate = asyncio.Event()
    runtime.connectors = registry(crm)
    request_id = await file_verified(runtime, "erasure")
    worker = Worker(runtime, policy=IMMEDIATE, poll_seconds=0.05, lease_seconds=0.6)

    async def unreachable(*_args: Any, **_kw: Any) -> set[str]:
        raise OSError("the database cannot be reached")

    monkeypatch.setattr(runner, "heartbeat", unreachable)
    run = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: crm.calls.running == 1)
        # No renewal: when the lease runs out by the worker's own clock, the call is cut off.
        await eventually(lambda: crm.calls.running == 0, guard=5)
        crm.gate.set()
        await asyncio.sleep(0.2)
        assert crm.data[EMAIL] == {"contact": [{"email": EMAIL}]}
    finally:
        worker.stop()
        await run
    _, tasks = await load(runtime, request_id)
    assert tasks["crm"].status in ("running", "pending")
