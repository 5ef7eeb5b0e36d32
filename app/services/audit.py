"""Appending to and reading the audit trail, inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import text
from sqlalchemy.orm import SessionTransaction
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import AuditEvent
from app.domain.audit import GENESIS, chain_breaks, event_hash

SYSTEM_STREAM = "system"


def _hashed_fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "stream": event.stream,
        "seq": event.seq,
        "request_id": event.request_id,
        "at": event.at,
        "actor": event.actor,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "detail": event.detail,
    }


async def append(
    session: AsyncSession,
    *,
    at: datetime,
    actor: str,
    action: str,
    request_id: str | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one event to its stream's chain. Callers never pass personal data in ``detail``."""
    stream = request_id or SYSTEM_STREAM
    await session.connection()  # begins the transaction, if it has not begun
    transaction = session.sync_session.get_transaction()
    assert transaction is not None
    heads = _heads.setdefault(transaction, {})
    head = heads.get(stream)
    if head is None:
        head = await _locked_head(session, stream)
    seq, prev_hash = head
    event = AuditEvent(
        stream=stream,
        seq=seq + 1,
        request_id=request_id,
        at=at,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        detail=detail or {},
        prev_hash=prev_hash,
        hash="",
    )
    event.hash = event_hash(event.prev_hash, _hashed_fields(event))
    session.add(event)
    await session.flush()
    heads[stream] = (event.seq, event.hash)
    return event


# The head of each stream this transaction appended to: it holds the stream's lock until it
# ends, so later appends in it need neither the lock nor the head again (a request's
# creation appends several events). Keyed weakly by the transaction: gone with it.
_heads: WeakKeyDictionary[SessionTransaction, dict[str, tuple[int, str]]] = WeakKeyDictionary()


async def _locked_head(session: AsyncSession, stream: str) -> tuple[int, str]:
    """Lock the stream for this transaction and read its last (seq, hash)."""
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        # Serialise appends per stream; SQLite already serialises writers (BEGIN IMMEDIATE).
        await session.exec(  # type: ignore[call-overload]
            text("SELECT pg_advisory_xact_lock(hashtext(:s))"), params={"s": stream}
        )
    last = (
        await session.exec(
            select(AuditEvent.seq, AuditEvent.hash)
            .where(AuditEvent.stream == stream)
            .order_by(col(AuditEvent.seq).desc())
            .limit(1)
        )
    ).first()
    return (last[0], last[1]) if last else (0, GENESIS)


async def events_for(session: AsyncSession, *, stream: str) -> list[AuditEvent]:
    rows = await session.exec(
        select(AuditEvent).where(AuditEvent.stream == stream).order_by(col(AuditEvent.seq))
    )
    return list(rows)


def verify(events: list[AuditEvent]) -> list[int]:
    """Sequence numbers of events that break the chain (empty when it verifies)."""
    triples = [(e.prev_hash, e.hash, _hashed_fields(e)) for e in events]
    return [events[i].seq for i in chain_breaks(triples)]
