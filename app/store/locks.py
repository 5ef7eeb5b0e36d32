"""Claiming rows that several replicas sweep at once, without waiting on each other."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select

from app.db.engine import Database

Q = TypeVar("Q", bound=Select[Any])


def skip_locked(query: Q, db: Database, *, of: Any = None) -> Q:
    """Lock the selected rows for this claim, skipping those another claimer holds
    (``FOR UPDATE SKIP LOCKED``); on SQLite every transaction is ``BEGIN IMMEDIATE``, so the
    write lock already keeps claimers apart."""
    if db.is_sqlite:
        return query
    return query.with_for_update(skip_locked=True, of=of)
