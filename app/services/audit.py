"""Appending to and checking the audit trail, inside the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import bindparam, event, text
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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
class _Head:
    """Where a chain ends: its last sequence number and hash."""

    seq: int
    hash: str


@dataclass
class _Heads:
    """The heads a transaction holds: the global one (locked) and each stream it wrote to."""

    global_head: _Head
    streams: dict[str, _Head] = field(default_factory=dict)


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
    SQLite already serialises writers with ``BEGIN IMMEDIATE``), then write them and the
    heads they move: three statements, the first of which takes the lock."""
    transaction = session.get_transaction()
    pending = _pending.pop(transaction, None) if transaction is not None else None
    if not pending or not pending.events:
        return
    key = session.info.get(AUDIT_KEY_INFO)
    assert isinstance(key, AuditKey)  # checked when each event was recorded
    assert transaction is not None
    postgres = session.get_bind().dialect.name == "postgresql"
    streams = {e.stream for e in pending.events}
    heads = _heads.get(transaction)
    wanted = streams - pending.new_streams - (set(heads.streams) if heads else set())
    if heads is None:
        global_head, found = _lock_heads(session, wanted, postgres=postgres)
        heads = _heads[transaction] = _Heads(global_head)
        heads.streams.update(found)
        wanted -= set(found)
    if wanted:  # not read under the lock (or not there then): read now, or start them
        found = _read_heads(session, wanted)
        heads.streams.update(found)
        heads.streams.update({s: _Head(0, GENESIS) for s in wanted - set(found)})
    for stream in pending.new_streams - set(heads.streams):
        heads.streams[stream] = _Head(0, GENESIS)
    global_head = heads.global_head
    for one in pending.events:
        stream_head = heads.streams[one.stream]
        one.seq, one.global_seq = stream_head.seq + 1, global_head.seq + 1
        one.prev_hash, one.global_prev_hash = stream_head.hash, global_head.hash
        one.hash = key.event_hash(one.prev_hash, one.global_prev_hash, hashed_fields(one))
        stream_head.seq, stream_head.hash = one.seq, one.hash
        global_head.seq, global_head.hash = one.global_seq, one.hash
    session.add_all(pending.events)  # inserted together by the next flush (the commit's)
    moved = [{"stream": GLOBAL_STREAM, "seq": global_head.seq, "hash": global_head.hash}]
    moved += [
        {"stream": s, "seq": heads.streams[s].seq, "hash": heads.streams[s].hash}
        for s in sorted(streams)
    ]
    session.execute(_UPSERT_HEADS[postgres], moved)


_HEAD_COLUMNS = (col(AuditHead.stream), col(AuditHead.seq), col(AuditHead.hash))
_STREAMS: Any = bindparam("streams", expanding=True)
_READ_HEADS = sa_select(*_HEAD_COLUMNS).where(col(AuditHead.stream).in_(_STREAMS))
# PostgreSQL locks the rows in the order they are sorted in; the global row (``*``) first.
_LOCK_HEADS = {
    True: _READ_HEADS.order_by(col(AuditHead.stream).collate("C")).with_for_update(),
    False: _READ_HEADS.with_for_update(),
}
_PG_UPSERT = pg_insert(AuditHead)
_SQLITE_UPSERT = sqlite_insert(AuditHead)
_UPSERT_HEADS: dict[bool, Any] = {
    True: _PG_UPSERT.on_conflict_do_update(
        index_elements=["stream"],
        set_={"seq": _PG_UPSERT.excluded.seq, "hash": _PG_UPSERT.excluded.hash},
    ),
    False: _SQLITE_UPSERT.on_conflict_do_update(
        index_elements=["stream"],
        set_={"seq": _SQLITE_UPSERT.excluded.seq, "hash": _SQLITE_UPSERT.excluded.hash},
    ),
}


def _lock_heads(
    session: Session, streams: set[str], *, postgres: bool
) -> tuple[_Head, dict[str, _Head]]:
    """Lock the global head and read it with the heads of ``streams``, in one statement. The
    rows are locked in the order of their names, where the global row (``*``) comes first:
    every chaining unit of work locks the global row before any stream's, so none waits for
    another in a circle. A stream's head read here is current: it is written only under the
    global lock, and a locked row is read as it is once the lock is had."""
    names = {"streams": sorted({GLOBAL_STREAM} | streams)}
    with session.no_autoflush:
        found = {r[0]: _Head(r[1], r[2]) for r in session.execute(_LOCK_HEADS[postgres], names)}
        if GLOBAL_STREAM not in found:  # a new database: racing replicas agree on one row
            session.execute(
                text(
                    "INSERT INTO audit_heads (stream, seq, hash) VALUES (:stream, 0, :hash) "
                    "ON CONFLICT (stream) DO NOTHING"
                ),
                {"stream": GLOBAL_STREAM, "hash": GENESIS},
            )
            found = {r[0]: _Head(r[1], r[2]) for r in session.execute(_LOCK_HEADS[postgres], names)}
    return found.pop(GLOBAL_STREAM), found


def _read_heads(session: Session, streams: set[str]) -> dict[str, _Head]:
    """Heads read under the global lock this unit of work holds already."""
    with session.no_autoflush:
        rows = session.execute(_READ_HEADS, {"streams": sorted(streams)})
        return {r[0]: _Head(r[1], r[2]) for r in rows}


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
