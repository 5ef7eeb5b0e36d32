"""View versions: raised with every change a view shows, and never a reason to wait inside
a unit of work (PostgreSQL: a request row locked elsewhere is raised right after commit)."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from app.db import versions
from app.db.models import DsrRequest, Task
from tests.jobs.conftest import eventually, file_verified
from tests.jobs.systems import MemorySystem, registry


async def version(runtime, request_id: str) -> int:
    async with runtime.db.session() as session:
        row = await session.exec(select(DsrRequest.version).where(DsrRequest.id == request_id))
        return int(row.one())


async def test_a_change_through_a_bulk_statement_is_named_and_raises_the_version(runtime):
    runtime.connectors = registry(MemorySystem("crm"))
    request_id = await file_verified(runtime)
    before = await version(runtime, request_id)
    async with runtime.db.session() as session:
        versions.touch(session, [request_id])
    assert await version(runtime, request_id) == before + 1
    async with runtime.db.session() as session:  # nothing changed: nothing raised
        await session.exec(select(Task))
    assert await version(runtime, request_id) == before + 1


async def test_a_request_locked_elsewhere_does_not_hold_up_the_commit(runtime, backend):
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: nothing is locked elsewhere")
    runtime.connectors = registry(MemorySystem("crm"))
    request_id = await file_verified(runtime)
    before = await version(runtime, request_id)
    locked = asyncio.Event()
    release = asyncio.Event()

    async def hold_the_row() -> None:
        async with runtime.db.session() as session:
            await session.get(DsrRequest, request_id, with_for_update=True)
            locked.set()
            await release.wait()

    holder = asyncio.create_task(hold_the_row())
    await locked.wait()
    committed = asyncio.Event()

    async def change_a_task() -> None:
        async with runtime.db.session() as session:
            task = (await session.exec(select(Task).where(Task.request_id == request_id))).one()
            task.last_error = "changed"
            session.add(task)
        committed.set()

    changer = asyncio.create_task(change_a_task())

    async def change_visible() -> bool:
        async with runtime.db.session() as session:
            task = (await session.exec(select(Task).where(Task.request_id == request_id))).one()
            return task.last_error == "changed"

    await eventually(change_visible)  # committed while the request row is still locked
    assert await version(runtime, request_id) == before
    release.set()
    await holder
    await changer
    assert committed.is_set()
    assert await version(runtime, request_id) == before + 1
