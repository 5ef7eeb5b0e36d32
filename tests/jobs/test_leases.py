"""Leases: a dead worker's task is taken over; a task run twice does no harm; a late report
from a worker that lost its lease is refused; stopping finishes or gives back what is held."""

from __future__ import annotations

import asyncio
import copy
from datetime import timedelta
from typing import Any

import pytest

from app.connectors.protocol import Capability, SubjectRef
from app.jobs import execute
from app.jobs.execute import Succeeded
from app.jobs.policy import IMMEDIATE
from app.jobs.queue import claim
from app.jobs.runner import Worker
from app.jobs.writeback import AttemptReport, record_attempts
from tests.jobs.conftest import EMAIL, audit_actions, eventually, file_verified, load
from tests.jobs.systems import MemorySystem, registry


def state(system: MemorySystem) -> tuple[Any, Any]:
    return copy.deepcopy(system.data), set(system.restricted)


async def dead_worker_claims(runtime, clock, connector: str = "crm"):
    """A worker claims a task and then stops heartbeating (killed, OOM, network gone)."""
    async with runtime.db.session() as session:
        return await claim(
            session,
            owner="dead-worker",
            now=clock.now(),
            lease_seconds=30,
            limit=10,
            connectors=[connector],
        )


@pytest.mark.parametrize(
    ("kind", "details", "action"),
    [
        ("erasure", {}, "erase"),
        ("rectification", {"changes": {"address": "Storgata 1"}}, "rectify"),
        ("restriction", {}, "restrict"),
    ],
)
async def test_an_action_run_twice_after_a_crash_does_no_harm(
    runtime, worker, clock, kind, details, action
):
    crm = MemorySystem("crm", capabilities=frozenset({Capability(action)}))
    crm.seed(EMAIL, "contact", {"email": EMAIL, "address": "Old street 1"})
    runtime.connectors = registry(crm)
    request_id = await file_verified(runtime, kind, details=details)

    # The first worker does the work in the system, then dies before recording it.
    [held] = await dead_worker_claims(runtime, clock)
    subject = SubjectRef(request_id=request_id, emails=[EMAIL])
    first = await execute.attempt(crm_instance(runtime), held.action, held.params, subject, details)
    assert isinstance(first, Succeeded)
    after_once = state(crm)
    assert after_once != (
        {EMAIL: {"contact": [{"email": EMAIL, "address": "Old street 1"}]}},
        set(),
    )

    await worker.run_until_idle()  # the lease is still valid: nobody touches the task
    assert crm.calls.counts == {action: 1}
    clock.advance(timedelta(seconds=31))  # no heartbeat: the lease runs out
    await worker.run_until_idle()

    assert crm.calls.counts == {action: 2}  # it ran again ...
    assert state(crm) == after_once  # ... and the system is exactly as after one run
    request, tasks = await load(runtime, request_id)
    assert request.status == "completed"
    assert (tasks["crm"].status, tasks["crm"].attempts) == ("succeeded", 2)

    # The dead worker's late report is refused: Innsyn records the task once.
    async with runtime.db.session() as session:
        report = AttemptReport(claim=held, owner="dead-worker", outcome=first)
        events = await record_attempts(runtime, session, [report], policy=IMMEDIATE)
    assert events == {held.id: "lost"}
    assert (await audit_actions(runtime, request_id)).count("task.succeeded") == 1


def crm_instance(runtime):
    instance = runtime.connectors.get("crm")
    assert instance is not None
    return instance


async def test_a_task_whose_worker_died_on_the_last_attempt_fails(runtime, worker, clock):
    runtime.connectors = registry(MemorySystem("crm"), max_attempts=1)
    request_id = await file_verified(runtime)
    await dead_worker_claims(runtime, clock)
    clock.advance(timedelta(seconds=31))

    await worker.run_until_idle()

    request, tasks = await load(runtime, request_id)
    assert (tasks["crm"].status, tasks["crm"].error_kind) == ("failed", "lost")
    assert tasks["crm"].interrupted_attempts == 1
    assert request.status == "awaiting_manual"


async def test_stopping_gives_back_what_is_still_running(runtime, clock):
    crm = MemorySystem("crm")
    crm.gate = asyncio.Event()
    runtime.connectors = registry(crm)
    request_id = await file_verified(runtime)
    worker = Worker(runtime, policy=IMMEDIATE, poll_seconds=0.05, grace_seconds=0.05)
    run = asyncio.create_task(worker.run())
    await eventually(lambda: crm.calls.running == 1)

    worker.stop()
    await run

    _, tasks = await load(runtime, request_id)
    task = tasks["crm"]
    # Due again at once for another worker, and the interrupted attempt is not counted
    # against the task; its call was cut off mid-flight, so the next outcome knows it.
    assert (task.status, task.attempts, task.lease_owner) == ("pending", 0, None)
    assert task.interrupted_attempts == 1
    crm.gate.set()
    await Worker(runtime, policy=IMMEDIATE).run_until_idle()
    request, tasks = await load(runtime, request_id)
    assert (request.status, tasks["crm"].attempts) == ("completed", 1)


async def test_stopping_lets_running_attempts_finish_and_claims_nothing_new(runtime):
    crm = MemorySystem("crm")
    crm.gate = asyncio.Event()
    runtime.connectors = registry(crm)
    first = await file_verified(runtime)
    worker = Worker(runtime, policy=IMMEDIATE, poll_seconds=0.05, grace_seconds=30)
    run = asyncio.create_task(worker.run())
    await eventually(lambda: crm.calls.running == 1)

    worker.stop()
    second = await file_verified(runtime, email="second@example.no")
    crm.gate.set()
    await run

    done, _ = await load(runtime, first)
    assert done.status == "completed"
    untouched, tasks = await load(runtime, second)
    assert untouched.status == "in_progress"
    assert (tasks["crm"].status, tasks["crm"].attempts) == ("pending", 0)


class Exclusive(MemorySystem):
    """Records, per person, how many calls ran at once and in all."""

    def __init__(self, name: str) -> None:
        super().__init__(name, delay=0.002)
        self.running_for: dict[str, int] = {}
        self.runs_for: dict[str, int] = {}
        self.overlaps = 0

    async def collect(self, subject):
        email = subject.emails[0]
        self.running_for[email] = self.running_for.get(email, 0) + 1
        self.runs_for[email] = self.runs_for.get(email, 0) + 1
        if self.running_for[email] > 1:
            self.overlaps += 1
        try:
            return await super().collect(subject)
        finally:
            self.running_for[email] -= 1


async def test_several_workers_share_the_queue_without_running_a_task_twice(runtime):
    systems = [Exclusive(f"sys{i}") for i in range(4)]
    runtime.connectors = registry(*systems, concurrency=2)
    emails = [f"p{i}@example.no" for i in range(25)]
    request_ids = [await file_verified(runtime, email=e) for e in emails]
    workers = [
        Worker(runtime, policy=IMMEDIATE, poll_seconds=0.01, concurrency=3) for _ in range(4)
    ]

    await asyncio.gather(*(w.run_until_idle() for w in workers))

    for system in systems:
        assert system.overlaps == 0
        assert system.runs_for == dict.fromkeys(emails, 1)
    for request_id in request_ids:
        request, tasks = await load(runtime, request_id)
        assert request.status == "completed"
        assert {t.attempts for t in tasks.values()} == {1}
