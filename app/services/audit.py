"""Appending to and checking the audit trail, inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import text
from sqlalchemy.orm import SessionTransaction
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import AuditEvent, AuditHead, DsrRequest
from app.domain.audit import (
    GENESIS,
    GLOBAL_STREAM,
    AuditKey,
    Check,
    Head,
    Link,
    check_stream,
)

SYSTEM_STREAM = "system"
AUDIT_KEY_INFO = "audit_key"  # where a session finds the key: Database puts it in session.info


def key_of(session: AsyncSession) -> AuditKey:
    key = session.info.get(AUDIT_KEY_INFO)
    if not isinstance(key, AuditKey):
        raise RuntimeError("the database was opened without an audit key (INNSYN_AUDIT_KEY)")
    return key


def hashed_fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "stream": event.stream,
        "seq": event.seq,
        "global_seq": event.global_seq,
        "request_id": event.request_id,
        "at": event.at,
        "actor": event.actor,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "detail": event.detail,
    }


@dataclass
class _Heads:
    """The heads a transaction holds: the global one (locked) and each stream it wrote to."""

    global_head: AuditHead
    streams: dict[str, AuditHead] = field(default_factory=dict)


# Keyed weakly by the transaction: the lock on the global head holds until it ends, so later
# appends in it need neither the lock nor the heads again (a request's creation appends
# several events). Gone with the transaction.
_heads: WeakKeyDictionary[SessionTransaction, _Heads] = WeakKeyDictionary()


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
    new_stream: bool = False,
) -> AuditEvent:
    """Add one event to its stream's chain and the global chain. Callers never pass personal
    data in ``detail``. ``new_stream``: the request was filed in this transaction, so its
    stream has no head yet (nothing to read)."""
    key = key_of(session)
    stream = request_id or SYSTEM_STREAM
    await session.connection()  # begins the transaction, if it has not begun
    transaction = session.sync_session.get_transaction()
    assert transaction is not None
    heads = _heads.get(transaction)
    if heads is None:
        heads = _heads[transaction] = _Heads(await _locked_global_head(session))
    stream_head = heads.streams.get(stream)
    if stream_head is None and new_stream and request_id is not None:
        stream_head = heads.streams[stream] = AuditHead(stream=stream, seq=0, hash=GENESIS)
        session.add(stream_head)
    elif stream_head is None:
        stream_head = heads.streams[stream] = await _stream_head(session, stream)
    global_head = heads.global_head
    event = AuditEvent(
        stream=stream,
        seq=stream_head.seq + 1,
        global_seq=global_head.seq + 1,
        request_id=request_id,
        at=at,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        detail=detail or {},
        prev_hash=stream_head.hash,
        global_prev_hash=global_head.hash,
        hash="",
    )
    event.hash = key.event_hash(event.prev_hash, event.global_prev_hash, hashed_fields(event))
    session.add(event)
    stream_head.seq, stream_head.hash = event.seq, event.hash
    global_head.seq, global_head.hash = event.global_seq, event.hash
    # Written with the unit of work's next flush (a query, or the commit): a transaction that
    # records several events inserts them together and moves each head once.
    return event


async def _locked_global_head(session: AsyncSession) -> AuditHead:
    """Lock the global head for this transaction (PostgreSQL: the row; SQLite already
    serialises writers with BEGIN IMMEDIATE) and read it. Only this row is locked, and always
    first, so appends never deadlock on each other."""
    query = (
        select(AuditHead)
        .where(AuditHead.stream == GLOBAL_STREAM)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    with session.no_autoflush:  # the heads are all this reads: pending changes wait
        head = (await session.exec(query)).first()
    if head is None:  # a new database: create the row; racing replicas agree on one
        await session.exec(  # type: ignore[call-overload]
            text(
                "INSERT INTO audit_heads (stream, seq, hash) VALUES (:stream, 0, :hash) "
                "ON CONFLICT (stream) DO NOTHING"
            ),
            params={"stream": GLOBAL_STREAM, "hash": GENESIS},
        )
        head = (await session.exec(query)).one()
    return head


async def _stream_head(session: AsyncSession, stream: str) -> AuditHead:
    """Read under the global lock, which every writer of stream heads holds."""
    query = (
        select(AuditHead)
        .where(AuditHead.stream == stream)
        .execution_options(populate_existing=True)
    )
    with session.no_autoflush:  # a head not yet read in this transaction has no changes
        head = (await session.exec(query)).first()
    if head is None:
        head = AuditHead(stream=stream, seq=0, hash=GENESIS)
        session.add(head)
    return head


async def events_for(session: AsyncSession, *, stream: str) -> list[AuditEvent]:
    rows = await session.exec(
        select(AuditEvent).where(AuditEvent.stream == stream).order_by(col(AuditEvent.seq))
    )
    return list(rows)


def link(event: AuditEvent) -> Link:
    return Link(
        stream=event.stream,
        seq=event.seq,
        global_seq=event.global_seq,
        request_id=event.request_id,
        prev_hash=event.prev_hash,
        global_prev_hash=event.global_prev_hash,
        hash=event.hash,
        fields=hashed_fields(event),
    )


async def head_of(session: AsyncSession, stream: str) -> Head | None:
    row = (
        await session.exec(select(AuditHead.seq, AuditHead.hash).where(AuditHead.stream == stream))
    ).first()
    return Head(row[0], row[1]) if row else None


async def check_stream_of(session: AsyncSession, stream: str, events: list[AuditEvent]) -> Check:
    """The stream's events against the key and its head; a request that exists must have some."""
    should_exist = False
    if stream != SYSTEM_STREAM:
        should_exist = await session.get(DsrRequest, stream) is not None
    return check_stream(
        key_of(session),
        stream,
        [link(e) for e in events],
        await head_of(session, stream),
        should_exist=should_exist,
    )


def verify(key: AuditKey, events: list[AuditEvent]) -> list[int]:
    """Sequence numbers of events that break their stream's chain (empty when it verifies)."""
    if not events:
        return []
    check = check_stream(key, events[0].stream, [link(e) for e in events], None)
    return sorted(
        {f.seq for f in check.findings if f.seq is not None and f.problem != "unanchored"}
    )
