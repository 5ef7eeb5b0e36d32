"""The task queue's SQL: claim with a lease, keep it alive, give it back.

PostgreSQL: ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING``, so
any number of workers on any number of machines claim disjoint tasks without waiting for one
another. SQLite renders the same statement without the locking clause; its transactions are
``BEGIN IMMEDIATE`` (one writer at a time), which makes the claim atomic in one process.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, case, func, text, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import versions
from app.db.models import DsrRequest, Task
from app.db.models.tasks import TaskAction, TaskStatus
from app.db.types import UTCDateTime
from app.domain.requests import RequestStatus

NOTIFY_CHANNEL = "innsyn_tasks"
WORKING_REQUESTS = (RequestStatus.in_progress.value, RequestStatus.awaiting_manual.value)


@dataclass(frozen=True)
class Claim:
    """A task this worker holds until ``lease_expires_at`` (renewed by heartbeats)."""

    id: str
    request_id: str
    connector: str
    action: TaskAction
    params: dict[str, Any]
    attempt: int  # the attempt number this claim is; fences the result write
    max_attempts: int
    interrupted: int = 0  # earlier attempts that never wrote back (their worker vanished)

    @property
    def attempt_key(self) -> str:
        """Unique per task attempt: the idempotency key connectors receive."""
        return f"{self.id}.{self.attempt}"


def _claimable(now: Any) -> Any:
    pending = (col(Task.status) == TaskStatus.pending.value) & (col(Task.next_attempt_at) <= now)
    abandoned = (
        (col(Task.status) == TaskStatus.running.value)
        & (col(Task.lease_expires_at) < now)
        & (col(Task.attempts) < col(Task.max_attempts))
    )
    return pending | abandoned


def _claim_statement(*, excluding: bool) -> Any:
    """The claim, built once (a worker claims many times a second under load): only the
    bound values change between claims."""
    now: Any = bindparam("now", type_=UTCDateTime())
    working = select(DsrRequest.id).where(col(DsrRequest.status).in_(WORKING_REQUESTS))
    candidates = (
        select(Task.id)
        .where(
            _claimable(now),
            col(Task.connector).in_(bindparam("connectors", expanding=True)),
            col(Task.request_id).in_(working),
        )
        .order_by(col(Task.next_attempt_at), col(Task.id))
        .limit(bindparam("limit"))
        .with_for_update(skip_locked=True, of=Task)
    )
    if excluding:
        candidates = candidates.where(col(Task.id).not_in(bindparam("exclude", expanding=True)))
    return (
        update(Task)
        .where(col(Task.id).in_(candidates.scalar_subquery()))
        .values(
            status=TaskStatus.running.value,
            lease_owner=bindparam("owner"),
            lease_expires_at=bindparam("lease_expires_at", type_=UTCDateTime()),
            attempts=col(Task.attempts) + 1,
            # Claimed while still "running": the previous attempt's worker vanished.
            interrupted_attempts=col(Task.interrupted_attempts)
            + case((col(Task.status) == TaskStatus.running.value, 1), else_=0),
            started_at=func.coalesce(col(Task.started_at), now),
            last_attempt_at=now,
            updated_at=now,
        )
        .returning(
            col(Task.id),
            col(Task.request_id),
            col(Task.connector),
            col(Task.action),
            col(Task.params),
            col(Task.attempts),
            col(Task.max_attempts),
            col(Task.interrupted_attempts),
        )
    )


_CLAIM = _claim_statement(excluding=False)
_CLAIM_EXCLUDING = _claim_statement(excluding=True)


async def claim(
    session: AsyncSession,
    *,
    owner: str,
    now: datetime,
    lease_seconds: float,
    limit: int,
    connectors: Collection[str],
    exclude: Collection[str] = (),
) -> list[Claim]:
    """Lease up to ``limit`` due tasks of ``connectors`` (a worker only claims what it can
    run); a task whose previous worker stopped heartbeating is due again."""
    if limit <= 0 or not connectors:
        return []
    params: dict[str, Any] = {
        "now": now,
        "owner": owner,
        "lease_expires_at": now + timedelta(seconds=lease_seconds),
        "limit": limit,
        "connectors": list(connectors),
    }
    if exclude:
        params["exclude"] = list(exclude)
    connection = await session.connection()
    rows = (await connection.execute(_CLAIM_EXCLUDING if exclude else _CLAIM, params)).all()
    versions.touch(session, {r[1] for r in rows})  # the tasks show as running in their views
    return sorted(
        (
            Claim(
                id=r[0],
                request_id=r[1],
                connector=r[2],
                action=TaskAction(r[3]),
                params=dict(r[4] or {}),
                attempt=r[5],
                max_attempts=r[6],
                interrupted=r[7],
            )
            for r in rows
        ),
        key=lambda c: c.id,
    )


async def heartbeat(
    session: AsyncSession, *, owner: str, ids: Sequence[str], now: datetime, lease_seconds: float
) -> set[str]:
    """Extend the leases this worker still holds; the ids missing from the answer were taken
    over by another worker (or finished) and must be abandoned."""
    if not ids:
        return set()
    statement = (
        update(Task)
        .where(
            col(Task.id).in_(list(ids)),
            col(Task.lease_owner) == owner,
            col(Task.status) == TaskStatus.running.value,
        )
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
        .returning(col(Task.id))
    )
    return {r[0] for r in (await session.exec(statement)).all()}


async def release(
    session: AsyncSession,
    *,
    owner: str,
    claims: Sequence[Claim],
    now: datetime,
    cut_off: Collection[str] = (),
) -> int:
    """Give tasks back unfinished (graceful shutdown): due at once, and the interrupted
    attempt does not count against the task. A call ``cut_off`` mid-flight may have acted:
    it counts as an interrupted attempt, so the next one's outcome stays true."""
    released = 0
    for held in claims:
        statement = (
            update(Task)
            .where(
                col(Task.id) == held.id,
                col(Task.lease_owner) == owner,
                col(Task.attempts) == held.attempt,
                col(Task.status) == TaskStatus.running.value,
            )
            .values(
                status=TaskStatus.pending.value,
                lease_owner=None,
                lease_expires_at=None,
                attempts=col(Task.attempts) - 1,
                interrupted_attempts=col(Task.interrupted_attempts)
                + (1 if held.id in cut_off else 0),
                next_attempt_at=now,
                updated_at=now,
            )
        )
        result = await session.exec(statement)
        released += result.rowcount
    versions.touch(session, {held.request_id for held in claims})
    return released


async def abandoned_on_last_attempt(session: AsyncSession, *, now: datetime) -> list[Task]:
    """Tasks whose worker vanished during their last allowed attempt (a poison task that
    kills workers must end, not loop forever). Not locked: the caller locks the request
    first, then re-reads the task with ``still_abandoned``."""
    statement = (
        select(Task)
        .where(
            col(Task.status) == TaskStatus.running.value,
            col(Task.lease_expires_at) < now,
            col(Task.attempts) >= col(Task.max_attempts),
        )
        .order_by(col(Task.request_id))
        .limit(100)
    )
    return list(await session.exec(statement))


async def still_abandoned(session: AsyncSession, task_id: str, *, now: datetime) -> Task | None:
    statement = (
        select(Task)
        .where(
            col(Task.id) == task_id,
            col(Task.status) == TaskStatus.running.value,
            col(Task.lease_expires_at) < now,
            col(Task.attempts) >= col(Task.max_attempts),
        )
        .with_for_update()
    )
    return (await session.exec(statement)).first()


async def notify(session: AsyncSession) -> None:
    """Wake workers in other processes (PostgreSQL delivers it when the transaction commits)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        connection = await session.connection()
        await connection.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
