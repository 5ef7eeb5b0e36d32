"""One leased outbox: what leaves Innsyn (webhook deliveries, Art. 19 notices, letters) is a
row written in the transaction that causes it, and sent after commit by whoever claims it.

A claim is one short transaction: the due rows are selected ``FOR UPDATE SKIP LOCKED`` on
PostgreSQL (SQLite runs every transaction as ``BEGIN IMMEDIATE``, so claimers queue instead)
and stamped with a lease; a row whose lease runs out (its sender died) is due again. After
the attempt, ``settle`` records it: sent, or tried again on the row's ``Backoff``, or
``failed`` once out of attempts, where staff see it. Nothing is sent inside a transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import ColumnElement, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.engine import Database
from app.domain.backoff import Backoff
from app.domain.deliveries import Event, Lifecycle
from app.store.locks import skip_locked


class OutboxRow(Protocol):
    """The columns every outbox table has."""

    id: str
    status: str
    attempts: int
    next_attempt_at: Any
    lease_expires_at: datetime | None
    last_error: str | None


Row = TypeVar("Row", bound=OutboxRow)
Status = TypeVar("Status", bound=StrEnum)


@dataclass(frozen=True)
class Settlement:
    """What one attempt leaves on its row."""

    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    lease_expires_at: None = None

    def values(self) -> dict[str, Any]:
        """For an ``UPDATE … SET`` (the next attempt's time only when there is one)."""
        values: dict[str, Any] = {
            "status": self.status,
            "attempts": self.attempts,
            "last_error": self.last_error,
            "lease_expires_at": None,
        }
        if self.next_attempt_at is not None:
            values["next_attempt_at"] = self.next_attempt_at
        return values

    def apply(self, row: OutboxRow) -> None:
        """Onto a loaded row (the caller adds it to its session)."""
        row.status = self.status
        row.attempts = self.attempts
        if self.next_attempt_at is not None:
            row.next_attempt_at = self.next_attempt_at
        row.last_error = self.last_error
        row.lease_expires_at = None


@dataclass(frozen=True)
class LeasedOutbox(Generic[Row, Status]):
    """One outbox table: its lifecycle, its lease and its retry schedule.

    ``counts_on_claim``: the attempt is counted when claimed, not when settled, so a sender
    that dies mid-send still uses one up (letters: a crash may have sent it)."""

    model: type[Row]
    status: type[Status]
    lifecycle: Lifecycle[Status]
    lease: timedelta
    backoff: Backoff
    counts_on_claim: bool = False

    def due(self, now: datetime) -> ColumnElement[bool]:
        """Claimable now: in a status a claim may take, its time come, no live lease."""
        m: Any = self.model
        return (
            col(m.status).in_([s.value for s in self.lifecycle.sources(Event.claim)])
            & (col(m.next_attempt_at) <= now)
            & or_(col(m.lease_expires_at).is_(None), col(m.lease_expires_at) < now)
        )

    async def claim(
        self,
        db: Database,
        now: datetime,
        *,
        limit: int = 50,
        ids: Sequence[str] | None = None,
        where: Iterable[ColumnElement[bool]] = (),
        join: tuple[Any, Any] | None = None,
        then: Callable[[AsyncSession, list[str]], Awaitable[None]] | None = None,
    ) -> list[str]:
        """Claim up to ``limit`` due rows (of ``ids`` only, when given) in one short
        transaction; their ids, oldest due first. A claimed row is nobody else's until its
        lease runs out. ``then`` runs in the claim's transaction (to read what the attempt
        needs, or to mark the change on the row's request)."""
        m: Any = self.model
        candidates = select(m.id)
        if join is not None:
            candidates = candidates.join(*join)
        candidates = candidates.where(self.due(now), *where)
        if ids is not None:
            candidates = candidates.where(col(m.id).in_(list(ids)))
        candidates = candidates.order_by(col(m.next_attempt_at), col(m.id)).limit(limit)
        values: dict[str, Any] = {
            "status": self.lifecycle.target(Event.claim).value,
            "lease_expires_at": now + self.lease,
        }
        if self.counts_on_claim:
            values["attempts"] = m.attempts + 1
        # One statement: UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING id.
        statement = (
            update(m)
            .where(col(m.id).in_(skip_locked(candidates, db, of=m).scalar_subquery()))
            .values(**values)
            .returning(col(m.id))
        )
        async with db.session() as session:
            claimed = sorted(str(r[0]) for r in (await session.exec(statement)).all())
            if claimed and then is not None:
                await then(session, claimed)
        return claimed

    def claim_new(self, row: OutboxRow, now: datetime) -> None:
        """Write a new row already claimed, by the unit of work that writes it: it sends the
        row itself right after its commit, with no claim transaction. Should it die first,
        the lease runs out and the row is due again like any other."""
        row.status = self.lifecycle.target(Event.claim).value
        row.lease_expires_at = now + self.lease
        if self.counts_on_claim:
            row.attempts += 1

    def settle(self, row: OutboxRow, now: datetime, error: str | None) -> Settlement:
        """The row after an attempt: ``error`` None when it reached the other side, else a
        short reason without personal data. Raises ``InvalidTransition`` for a row its
        lifecycle does not let settle (sent meanwhile, resolved by staff)."""
        current = self.status(row.status)
        attempts = row.attempts if self.counts_on_claim else row.attempts + 1
        if error is None:
            status = self.lifecycle.next(current, Event.sent)
            return Settlement(status.value, attempts, None, None)
        retry_at = self.backoff.after(attempts, now)
        event = Event.give_up if retry_at is None else Event.retry
        status = self.lifecycle.next(current, event)
        return Settlement(status.value, attempts, retry_at, error)
