"""Claiming: a slot that frees claims the next queued task at once, not at the next poll."""

from __future__ import annotations

import asyncio

from app.jobs.policy import IMMEDIATE
from app.jobs.runner import Worker
from tests.jobs.conftest import eventually
from tests.jobs.systems import MemorySystem, registry

HOUR = 3600.0


async def test_a_freed_slot_claims_the_queued_tasks_without_waiting_for_the_poll(
    runtime, client, staff
):
    """Three requests queue behind one slot; the poll never comes (an hour): only a finished
    attempt can start the next one."""
    crm = MemorySystem("crm")
    runtime.connectors = registry(crm, concurrency=1)
    ids = []
    for n in range(3):
        created = await client.post(
            "/v1/requests",
            headers=staff["operator"],
            json={
                "kind": "access",
                "subject": {"email": f"person{n}@example.no"},
                "verification": {"method": "staff", "note": "called back"},
            },
        )
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
    worker = Worker(runtime, policy=IMMEDIATE, poll_seconds=HOUR, lease_seconds=30)
    run = asyncio.create_task(worker.run())

    async def all_completed() -> bool:
        for request_id in ids:
            view = await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])
            if view.json()["status"] != "completed":
                return False
        return True

    try:
        await eventually(all_completed, guard=15.0, step=0.05)
    finally:
        worker.stop()
        await run
    assert crm.calls.counts == {"collect": 3}


async def test_the_claim_batch_fills_the_free_slots(runtime, client, staff):
    """With room for four, four queued tasks are claimed together and run at once."""
    crm = MemorySystem("crm")
    crm.gate = asyncio.Event()
    runtime.connectors = registry(crm, concurrency=4)
    for n in range(4):
        created = await client.post(
            "/v1/requests",
            headers=staff["operator"],
            json={
                "kind": "access",
                "subject": {"email": f"person{n}@example.no"},
                "verification": {"method": "staff", "note": "called back"},
            },
        )
        assert created.status_code == 201
    worker = Worker(runtime, policy=IMMEDIATE, poll_seconds=HOUR, lease_seconds=30)
    run = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: crm.calls.running == 4, guard=15.0)
    finally:
        crm.gate.set()
        worker.stop()
        await run
