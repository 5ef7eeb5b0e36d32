"""Append-only audit trail: per-stream chains (a request, or ``system``) inside one global
chain, their heads, and the signed checkpoints taken of the global head."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.db.types import UTCDateTime

TIMELINE_ONLY = "action NOT LIKE 'read.%'"  # the partial index's predicate, used verbatim


class AuditEvent(SQLModel, table=True):
    """Who did what, when, to which request. ``detail`` never holds personal data."""

    __tablename__ = "audit_events"
    __table_args__ = (
        UniqueConstraint("stream", "seq", name="uq_audit_stream_seq"),
        # The timeline without the reads: a view read a thousand times is no dearer to build.
        Index(
            "ix_audit_events_timeline",
            "stream",
            "seq",
            postgresql_where=text(TIMELINE_ONLY),
            sqlite_where=text(TIMELINE_ONLY),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    stream: str = Field(max_length=40, index=True)
    seq: int
    global_seq: int = Field(unique=True)
    request_id: str | None = Field(default=None, max_length=40, index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=200)
    action: str = Field(max_length=64)
    from_status: str | None = Field(default=None, max_length=32)
    to_status: str | None = Field(default=None, max_length=32)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    global_prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The last event of each stream, and of the global chain (stream ``*``). Appends lock
    the global row, so concurrent transactions never fork the chain."""

    __tablename__ = "audit_heads"

    stream: str = Field(primary_key=True, max_length=40)
    seq: int
    hash: str = Field(max_length=64)


class AuditCheckpoint(SQLModel, table=True):
    """A signed checkpoint of the global head; operators keep a copy outside the database."""

    __tablename__ = "audit_checkpoints"

    id: int | None = Field(default=None, primary_key=True)
    global_seq: int
    hash: str = Field(max_length=64)
    at: datetime = Field(sa_type=UTCDateTime)
    actor: str = Field(max_length=200)
    token: str = Field(max_length=1000)
