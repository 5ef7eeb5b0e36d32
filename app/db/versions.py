"""The view version of a request: a number that changes with anything its staff view shows.

``GET /v1/requests/{id}`` answers ``If-None-Match`` from this number alone (one read by primary
key), so every writer of the request, its tasks, holds, letters, notices or timeline must
move it. Changes made through the ORM are found here at flush time; bulk and conditional
statements that bypass the ORM name their requests with ``touch``. The numbers are raised in
one statement as the unit of work commits, by the database (``version + 1``), so a stale copy
in memory never writes an older number back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

from sqlalchemy import bindparam, event, or_, select, update
from sqlalchemy.orm import Session
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import (
    AnswerLink,
    DsrRequest,
    LegalHold,
    OutgoingLetter,
    RecipientNotice,
    Task,
)

READ_PREFIX = "read."  # audit actions that record a read: a read changes no view
_KEY = "innsyn.view_changes"
LEFT_KEY = "innsyn.view_changes_left"  # skipped at commit: raised right after it


@dataclass
class _Changes:
    ids: set[str] = field(default_factory=set)
    # A hold shows on every request of the person it is about (matched by keyed hashes).
    email_hashes: set[str] = field(default_factory=set)
    national_id_hashes: set[str] = field(default_factory=set)
    # Filed in this unit of work: no one can hold a tag of them yet, so nothing to raise.
    created: set[str] = field(default_factory=set)


def _changes(session: Session) -> _Changes:
    found: _Changes = session.info.setdefault(_KEY, _Changes())
    return found


def touch(session: AsyncSession, request_ids: Iterable[str | None]) -> None:
    """Mark requests changed by a statement the ORM does not see (bulk or conditional)."""
    _changes(session.sync_session).ids.update(i for i in request_ids if i)


@event.listens_for(Session, "before_flush")
def _collect(session: Session, _context: Any, _instances: Any) -> None:
    changes = _changes(session)
    for obj in session.new:
        if isinstance(obj, DsrRequest):
            changes.created.add(obj.id)
    for obj in chain(session.new, session.dirty, session.deleted):
        if isinstance(obj, DsrRequest):
            changes.ids.add(obj.id)
        elif isinstance(obj, (Task, OutgoingLetter, RecipientNotice, AnswerLink)):
            changes.ids.add(obj.request_id)
        elif isinstance(obj, LegalHold):
            if obj.request_id:
                changes.ids.add(obj.request_id)
            if obj.email_hash:
                changes.email_hashes.add(obj.email_hash)
            if obj.national_id_hash:
                changes.national_id_hashes.add(obj.national_id_hash)


@event.listens_for(Session, "before_commit")
def _bump(session: Session) -> None:
    session.flush()  # what is still pending is collected first
    changes: _Changes | None = session.info.pop(_KEY, None)
    if changes is None:
        return
    ids = changes.ids
    if changes.email_hashes or changes.national_id_hashes:  # a hold: every request it covers
        ids |= _covered(session, changes)
    if ids := ids - changes.created:
        _raise_by_id(session, sorted(ids))


def _covered(session: Session, changes: _Changes) -> set[str]:
    """The requests of the people a changed hold is about (by their keyed hashes)."""
    matches = []
    if changes.email_hashes:
        matches.append(col(DsrRequest.email_hash).in_(sorted(changes.email_hashes)))
    if changes.national_id_hashes:
        matches.append(col(DsrRequest.national_id_hash).in_(sorted(changes.national_id_hashes)))
    return set(session.execute(select(col(DsrRequest.id)).where(or_(*matches))).scalars())


def _raise_statement(*, skip_locked: bool) -> Any:
    """Raise the versions of requests named by id, built once (every commit runs it)."""
    targets = (
        select(col(DsrRequest.id))
        .where(col(DsrRequest.id).in_(bindparam("ids", expanding=True)))
        .order_by(col(DsrRequest.id))
    )
    if skip_locked:
        targets = targets.with_for_update(skip_locked=True)
    return (
        update(DsrRequest)
        .where(col(DsrRequest.id).in_(targets.scalar_subquery()))
        .values(version=col(DsrRequest.version) + 1)
        .returning(col(DsrRequest.id))
    )


_RAISE_BY_ID = {
    True: _raise_statement(skip_locked=True),
    False: _raise_statement(skip_locked=False),
}


def _raise_by_id(session: Session, ids: list[str]) -> None:
    """SQLite: one writer, nothing waits. PostgreSQL: this unit of work may hold the audit
    chain's lock (it read its trail), so it must never wait for a request row another one
    holds (that one may be waiting for the chain): rows locked elsewhere are skipped here
    and raised right after the commit instead."""
    postgres = session.get_bind().dialect.name == "postgresql"
    raised = set(session.connection().execute(_RAISE_BY_ID[postgres], {"ids": ids}).scalars())
    session.info.pop(_KEY, None)
    if postgres and (left := set(ids) - raised):
        session.info[LEFT_KEY] = sorted(left)


async def raise_left(session: AsyncSession, ids: list[str]) -> None:
    """Raise, in a unit of work of its own, the versions a commit had to skip (their rows
    were locked by another unit of work): it holds nothing else, so it may wait."""
    await session.exec(
        update(DsrRequest)
        .where(col(DsrRequest.id).in_(ids))
        .values(version=col(DsrRequest.version) + 1)
        .execution_options(synchronize_session=False)
    )
    session.info.pop(_KEY, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, _previous: Any) -> None:
    session.info.pop(_KEY, None)
    session.info.pop(LEFT_KEY, None)
