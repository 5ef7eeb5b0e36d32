"""The pool does not ping each connection it hands out: a database restart (every connection
dropped by the server) is found by the statement that meets a dead connection, and the pool
then replaces all connections older than that failure. The hot reads and the worker's
transactions run once more on a fresh connection; nothing stays broken."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text

from app.jobs.dbretry import retrying
from app.services import request_views
from tests.jobs.systems import MemorySystem, registry

ATTESTED = {"method": "staff", "note": "called back on the number on file"}


async def _drop_every_connection(database_url: str) -> int:
    """What a restart does to the service's connections: the server ends them all."""
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return int(
            await conn.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    finally:
        await conn.close()


async def _fill_pool(runtime, n: int = 3) -> None:
    """Several connections checked out at once, then back in the pool."""
    sessions = [runtime.db.sessionmaker() for _ in range(n)]
    for s in sessions:
        await (await s.connection()).execute(text("SELECT 1"))
    for s in sessions:
        await s.close()


async def test_a_dropped_pool_recovers_without_pinging(
    backend, database_url, client, staff, runtime
):
    if backend != "postgresql":
        pytest.skip("a server that drops its connections is a PostgreSQL matter")
    assert runtime.db.engine.pool._pre_ping is False
    runtime.connectors = registry(MemorySystem("crm"))
    created = await client.post(
        "/v1/requests",
        json={"kind": "access", "subject": {"email": "ola@example.no"}, "verification": ATTESTED},
        headers=staff["operator"],
    )
    request_id = created.json()["id"]
    tag = (await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])).headers[
        "etag"
    ]

    # The hot read: found dead, replaced, read again; the poll never sees the restart.
    await _fill_pool(runtime)
    assert await _drop_every_connection(database_url) >= 1
    assert await request_views.view_etag(runtime, request_id) == tag
    headers = staff["operator"] | {"If-None-Match": tag}
    assert (await client.get(f"/v1/requests/{request_id}", headers=headers)).status_code == 304

    # A worker's transaction: run again by its retry.
    await _fill_pool(runtime)
    assert await _drop_every_connection(database_url) >= 1
    tries = 0

    async def write() -> int:
        nonlocal tries
        tries += 1
        async with runtime.db.session() as session:
            conn = await session.connection()
            return int((await conn.execute(text("SELECT 1"))).scalar_one())

    assert await retrying(write) == 1
    assert tries == 2  # the first met a dead connection; the pool was renewed after it

    # Everything after that runs on fresh connections.
    view = await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])
    assert view.status_code == 200


async def test_an_api_change_that_meets_a_dropped_connection_says_try_again(
    backend, database_url, client, staff, runtime
):
    """No ping per checkout means one call per process may meet the dead connection: it gets
    a typed 503 with Retry-After (nothing was changed), and the next call works."""
    if backend != "postgresql":
        pytest.skip("a server that drops its connections is a PostgreSQL matter")
    runtime.connectors = registry(MemorySystem("crm"))
    body = {"kind": "access", "subject": {"email": "kari@example.no"}, "verification": ATTESTED}
    await _fill_pool(runtime)
    assert await _drop_every_connection(database_url) >= 1
    first = await client.post("/v1/requests", json=body, headers=staff["operator"])
    assert first.status_code == 503, first.text  # every pooled connection was dead
    assert first.headers["content-type"] == "application/problem+json"
    assert first.headers["retry-after"] == "1"
    assert first.json()["type"].endswith("database-unavailable")
    again = await client.post("/v1/requests", json=body, headers=staff["operator"])
    assert again.status_code == 201, again.text
    listed = await client.get("/v1/requests", headers=staff["operator"])
    assert len(listed.json()["items"]) == 1  # the refused try changed nothing
