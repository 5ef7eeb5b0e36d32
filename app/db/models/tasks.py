"""The durable task queue: one row per connector × action of a request, and collected data.

The rows are the queue: workers claim them with a lease, so a crashed worker's task is taken
over and nothing lives only in memory. ``result`` and ``last_error`` never hold personal data;
what a connector collected is sealed in ``collected_data``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db.types import UTCDateTime


class TaskStatus(StrEnum):
    pending = "pending"  # waiting to be claimed (at or after ``next_attempt_at``)
    running = "running"  # claimed by ``lease_owner`` until ``lease_expires_at``
    succeeded = "succeeded"
    failed = "failed"  # out of attempts, or a permanent / configuration error: staff decide
    manual = "manual"  # a person must do the work (checklist), closed through the API
    cancelled = "cancelled"  # the request was withdrawn or refused first
    # Staff could not do the work (a manual or failed task) and said why: the outcome and
    # the person's letter give the reason.
    not_possible = "not_possible"
    # The system asks for a stronger proof of identity than the request has (step-up):
    # waits until the person proves more (an ID token) or staff attest it.
    needs_stronger_identity = "needs_stronger_identity"


class TaskAction(StrEnum):
    collect = "collect"
    holds = "holds"
    erase = "erase"
    rectify = "rectify"
    restrict = "restrict"


class Task(SQLModel, table=True):
    """One connector action for one request, with its lease, attempts and outcome."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("request_id", "connector", "action", "phase", name="uq_tasks_plan"),
        Index("ix_tasks_claim", "status", "next_attempt_at"),
        Index("ix_tasks_lease", "status", "lease_expires_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    request_id: str = Field(foreign_key="requests.id", max_length=40, index=True)
    connector: str = Field(max_length=100)
    action: str = Field(max_length=16)
    phase: int = 1
    status: str = Field(max_length=32)
    attempts: int = 0
    max_attempts: int = 5
    # Attempts whose worker vanished before writing back (taken over after the lease ran
    # out): such an attempt may have acted, so the outcome must not say "not found".
    interrupted_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Parameters that are not personal data (e.g. the categories an erase may touch).
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))

    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    lease_owner: str | None = Field(default=None, max_length=120)
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    last_error: str | None = Field(default=None, max_length=500)
    error_kind: str | None = Field(default=None, max_length=32)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    checklist: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # Free text staff wrote when closing the task by hand: may name the person, so sealed.
    note_ciphertext: str | None = None


class CollectedData(SQLModel, table=True):
    """What one collect task found, sealed; kept for the access / portability report."""

    __tablename__ = "collected_data"

    id: str = Field(primary_key=True, max_length=40)
    task_id: str = Field(foreign_key="tasks.id", max_length=40, unique=True)
    request_id: str = Field(foreign_key="requests.id", max_length=40, index=True)
    connector: str = Field(max_length=100)
    record_count: int = 0
    created_at: datetime = Field(sa_type=UTCDateTime)
    # cipher.seal({"records": [...], "external_controller": ..., "self_service_url": ...},
    #             purpose=collected_purpose(request_id, task_id))
    ciphertext: str


def collected_purpose(request_id: str, task_id: str) -> str:
    """The AEAD purpose a collected blob is bound to: it cannot be moved to another task."""
    return f"collected:{request_id}:{task_id}"
