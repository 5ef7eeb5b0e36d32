"""A connector for the multi-process tests, loaded by ``innsyn worker`` processes through
``INNSYN_CONNECTOR_FACTORY=tests.jobs.crashy_connector:registry``.

Its data and a record of every call live in the shared PostgreSQL (tables ``fx_*``, made by
the test), so the test can see what every worker process did:

- ``fx_data``: the person's data per system; ``erase`` deletes rows (idempotent).
- ``fx_calls``: one row per call (system, request, action, pid, when, rows deleted).
- ``fx_running``: a row while a call runs; a second concurrent call of the same task is
  written to ``fx_violations`` instead (a row left by a killed process does not count).

Environment: ``CRASHY_DSN`` (libpq URL), ``CRASHY_SYSTEMS`` (how many), ``CRASHY_DELAY``
(seconds per call), ``CRASHY_BLOCK`` (``request_id:system:action``: the first call of that
task hangs until its process is killed), ``CRASHY_AFTER`` (the same, but it hangs after
doing its work: killed, it acted and never reported), ``CRASHY_STALL``
(``request_id:system:action:seconds``: the first call waits that long, then does its work).
An erase records ``sent_at`` and ``deleted`` in the same statement that deletes, so a delete
that reached the database is always visible, even when its process is killed right after.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import Any, ClassVar

import asyncpg
from pydantic import BaseModel

from app.connectors.protocol import (
    Capability,
    CategoryErasure,
    CollectResult,
    DataCategory,
    ErasureOutcome,
    ErasureResult,
    Health,
    Record,
    SubjectRef,
)
from app.connectors.registry import ConnectorInstance, ConnectorRegistry

SCHEMA = """
CREATE TABLE IF NOT EXISTS fx_data (email text, system text, category text, value text);
CREATE TABLE IF NOT EXISTS fx_calls (
    id serial PRIMARY KEY, system text, request_id text, action text, pid int,
    started_at timestamptz DEFAULT clock_timestamp(), finished_at timestamptz, deleted int,
    sent_at timestamptz
);
CREATE TABLE IF NOT EXISTS fx_running (
    system text, request_id text, action text, pid int,
    PRIMARY KEY (system, request_id, action)
);
CREATE TABLE IF NOT EXISTS fx_violations (system text, request_id text, action text, pid int);
"""
DROP = "DROP TABLE IF EXISTS fx_data, fx_calls, fx_running, fx_violations"


class NoConfig(BaseModel):
    pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Crashy:
    kind: ClassVar[str] = "crashy"
    config_model: ClassVar[type[BaseModel]] = NoConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.collect, Capability.erase}
    )

    def __init__(
        self,
        name: str,
        dsn: str,
        delay: float,
        block: str | None,
        after: str | None = None,
        stall: str | None = None,
    ) -> None:
        self.name = name
        self.dsn = dsn
        self.delay = delay
        self.block = block
        self.after = after
        self.stall = stall
        self._pool: asyncpg.Pool | None = None

    def categories(self) -> Sequence[DataCategory]:
        return [
            DataCategory(
                name="contact",
                description="contact details",
                purpose="customer service",
                legal_basis="GDPR 6(1)(b) contract",
                retention="while a customer",
            )
        ]

    async def check(self) -> Health:
        return Health(ok=True)

    async def aclose(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    async def _db(self) -> asyncpg.Pool:
        if self._pool is None:
            self._pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=8)
        return self._pool

    async def _start(self, subject: SubjectRef, action: str) -> tuple[int, bool]:
        """Record the call; returns its id and whether it is the task's first call."""
        pool = await self._db()
        key = (self.name, subject.request_id, action)
        async with pool.acquire() as conn, conn.transaction():
            mine = await conn.fetchval(
                "INSERT INTO fx_running VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1",
                *key,
                os.getpid(),
            )
            if mine is None:  # someone holds it: a live process means two runs at once
                holder = await conn.fetchval(
                    "SELECT pid FROM fx_running WHERE system=$1 AND request_id=$2 AND action=$3"
                    " FOR UPDATE",
                    *key,
                )
                if holder is not None and _alive(holder):
                    await conn.execute(
                        "INSERT INTO fx_violations VALUES ($1, $2, $3, $4)", *key, os.getpid()
                    )
                await conn.execute(
                    "UPDATE fx_running SET pid=$4 WHERE system=$1 AND request_id=$2 AND action=$3",
                    *key,
                    os.getpid(),
                )
            call_id = await conn.fetchval(
                "INSERT INTO fx_calls (system, request_id, action, pid) VALUES ($1, $2, $3, $4)"
                " RETURNING id",
                *key,
                os.getpid(),
            )
            earlier = await conn.fetchval(
                "SELECT count(*) FROM fx_calls WHERE system=$1 AND request_id=$2 AND action=$3",
                *key,
            )
        task = f"{subject.request_id}:{self.name}:{action}"
        if self.block == task and earlier == 1:
            await asyncio.sleep(3600)  # until the test kills this process
        if self.stall and self.stall.rpartition(":")[0] == task and earlier == 1:
            await asyncio.sleep(float(self.stall.rpartition(":")[2]))
        return int(call_id), earlier == 1

    async def _finish(self, subject: SubjectRef, action: str, call_id: int, deleted: int) -> None:
        pool = await self._db()
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE fx_calls SET finished_at = clock_timestamp(), deleted = $2 WHERE id = $1",
                call_id,
                deleted,
            )
            await conn.execute(
                "DELETE FROM fx_running WHERE system=$1 AND request_id=$2 AND action=$3 AND pid=$4",
                self.name,
                subject.request_id,
                action,
                os.getpid(),
            )

    async def collect(self, subject: SubjectRef) -> CollectResult:
        call_id, _first = await self._start(subject, "collect")
        await asyncio.sleep(self.delay)
        pool = await self._db()
        rows = await pool.fetch(
            "SELECT category, value FROM fx_data WHERE email=$1 AND system=$2",
            subject.emails[0],
            self.name,
        )
        await self._finish(subject, "collect", call_id, 0)
        records = [
            Record(category=r["category"], id=str(i), data={"value": r["value"]})
            for i, r in enumerate(rows)
        ]
        return CollectResult(records=records)

    async def erase(self, subject: SubjectRef, categories: Sequence[str]) -> ErasureResult:
        call_id, first = await self._start(subject, "erase")
        await asyncio.sleep(self.delay)
        pool = await self._db()
        deleted = await pool.fetchval(
            "WITH gone AS (DELETE FROM fx_data WHERE email=$1 AND system=$2"
            " AND category = ANY($3::text[]) RETURNING 1)"
            " UPDATE fx_calls SET sent_at = clock_timestamp(), deleted = (SELECT count(*) FROM gone)"
            " WHERE id = $4"
            " RETURNING (SELECT count(*) FROM gone)",
            subject.emails[0],
            self.name,
            list(categories),
            call_id,
        )
        if self.after == f"{subject.request_id}:{self.name}:erase" and first:
            await asyncio.sleep(3600)  # it erased; killed now, it never reports it
        await self._finish(subject, "erase", call_id, int(deleted))
        outcome = ErasureOutcome.erased if deleted else ErasureOutcome.not_found
        return ErasureResult(
            categories=[
                CategoryErasure(category=c, outcome=outcome, count=deleted) for c in categories
            ]
        )


def registry() -> ConnectorRegistry:
    """The factory ``INNSYN_CONNECTOR_FACTORY`` names."""
    dsn = os.environ["CRASHY_DSN"]
    delay = float(os.environ.get("CRASHY_DELAY", "0.02"))
    block = os.environ.get("CRASHY_BLOCK") or None
    instances: list[Any] = [
        ConnectorInstance(
            name=f"sys{i}",
            kind=Crashy.kind,
            connector=Crashy(
                f"sys{i}",
                dsn,
                delay,
                block,
                os.environ.get("CRASHY_AFTER") or None,
                os.environ.get("CRASHY_STALL") or None,
            ),
            concurrency=int(os.environ.get("CRASHY_CONCURRENCY", "4")),
            timeout_seconds=600,
            max_attempts=5,
        )
        for i in range(int(os.environ.get("CRASHY_SYSTEMS", "4")))
    ]
    return ConnectorRegistry.of(instances)
