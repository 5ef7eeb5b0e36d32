"""Appending to and checking the audit trail, inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import event, text
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import versions
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


@dataclass
class _Pending:
    """Events a transaction recorded and has not chained yet, and the streams it began."""

    events: list[AuditEvent] = field(default_factory=list)
    new_streams: set[str] = field(default_factory=set)


# Both keyed weakly by the transaction and gone with it. Events are chained (numbered and
# hashed into their stream and the global chain) only when the transaction commits: the lock
# on the global head, which every writer needs, is then held for a few statements and the
# commit, not for the whole unit of work.
_heads: WeakKeyDictionary[SessionTransaction, _Heads] = WeakKeyDictionary()
_pending: WeakKeyDictionary[SessionTransaction, _Pending] = WeakKeyDictionary()


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
    """Record one event; it joins its stream's chain and the global chain as the unit of work
    commits (``chain`` does it sooner). Callers never pass personal data in ``detail``.
    ``new_stream``: the request was filed in this transaction, so its stream has no head yet
    (nothing to read)."""
    key_of(session)  # no key, no event: fail here, not at the commit
    stream = request_id or SYSTEM_STREAM
    await session.connection()  # begins the transaction, if it has not begun
    transaction = session.sync_session.get_transaction()
    assert transaction is not None
    pending = _pending.setdefault(transaction, _Pending())
    if new_stream and request_id is not None:
        pending.new_streams.add(stream)
    recorded = AuditEvent(
        stream=stream,
        seq=0,
        global_seq=0,
        request_id=request_id,
        at=at,
        actor=actor,
        action=action,
        from_status=from_status,
        to_status=to_status,
        detail=detail or {},
        prev_hash="",
        global_prev_hash="",
        hash="",
    )
    pending.events.append(recorded)
    if request_id is not None and not action.startswith(versions.READ_PREFIX):
        versions.touch(session, [request_id])  # its timeline shows the event
    return recorded


async def chain(session: AsyncSession) -> None:
    """Chain what this unit of work recorded so far now (to read it back, or to sign the
    head it makes), rather than at the commit."""
    await session.run_sync(_chain)


@event.listens_for(Session, "before_commit")
def _chain_at_commit(session: Session) -> None:
    _chain(session)


def _chain(session: Session) -> None:
    """Number and hash the pending events under the global head's lock (PostgreSQL: the row;
    SQLite already serialises writers with ``BEGIN IMMEDIATE``). Only this row is locked, and
    always before any stream head, so chaining units of work never deadlock on each other."""
    transaction = session.get_transaction()
    pending = _pending.pop(transaction, None) if transaction is not None else None
    if not pending or not pending.events:
        return
    key = session.info.get(AUDIT_KEY_INFO)
    assert isinstance(key, AuditKey)  # checked when each event was recorded
    assert transaction is not None
    heads = _heads.get(transaction)
    if heads is None:
        heads = _heads[transaction] = _Heads(_locked_global_head(session))
    wanted = {e.stream for e in pending.events} - set(heads.streams)
    for stream in wanted & pending.new_streams:
        heads.streams[stream] = AuditHead(stream=stream, seq=0, hash=GENESIS)
        session.add(heads.streams[stream])
    heads.streams.update(_stream_heads(session, wanted - pending.new_streams))
    global_head = heads.global_head
    for one in pending.events:
        stream_head = heads.streams[one.stream]
        one.seq, one.global_seq = stream_head.seq + 1, global_head.seq + 1
        one.prev_hash, one.global_prev_hash = stream_head.hash, global_head.hash
        one.hash = key.event_hash(one.prev_hash, one.global_prev_hash, hashed_fields(one))
        stream_head.seq, stream_head.hash = one.seq, one.hash
        global_head.seq, global_head.hash = one.global_seq, one.hash
    session.add_all(pending.events)


def _locked_global_head(session: Session) -> AuditHead:
    query = (
        select(AuditHead)
        .where(AuditHead.stream == GLOBAL_STREAM)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    with session.no_autoflush:  # the heads are all this reads: pending changes wait
        head = session.execute(query).scalars().first()
        if head is None:  # a new database: create the row; racing replicas agree on one
            session.execute(
                text(
                    "INSERT INTO audit_heads (stream, seq, hash) VALUES (:stream, 0, :hash) "
                    "ON CONFLICT (stream) DO NOTHING"
                ),
                {"stream": GLOBAL_STREAM, "hash": GENESIS},
            )
            head = session.execute(query).scalars().one()
    return head


def _stream_heads(session: Session, streams: set[str]) -> dict[str, AuditHead]:
    """Read under the global lock, which every writer of stream heads holds; a stream never
    written to starts at the genesis hash."""
    found: dict[str, AuditHead] = {}
    if streams:
        query = (
            select(AuditHead)
            .where(col(AuditHead.stream).in_(sorted(streams)))
            .execution_options(populate_existing=True)
        )
        with session.no_autoflush:  # a head not yet read in this transaction has no changes
            found = {h.stream: h for h in session.execute(query).scalars()}
    for stream in streams - set(found):
        found[stream] = AuditHead(stream=stream, seq=0, hash=GENESIS)
        session.add(found[stream])
    return found


async def events_for(session: AsyncSession, *, stream: str) -> list[AuditEvent]:
    await chain(session)
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
    await chain(session)
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
