"""Bodies and views of ``/v1/requests/{id}/tasks/{task_id}/…``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class TaskSkipIn(BaseModel):
    """Go on without a system that waits for a stronger proof the person has not given."""

    model_config = ConfigDict(extra="forbid")

    note: str = Field(
        min_length=3,
        max_length=5000,
        description="Why (e.g. the person was asked and did not log in); sealed, for staff.",
    )


class TaskCompleteIn(BaseModel):
    """Closing a task by hand: every checklist item answered (done or not), and for a failed
    task a note on what was done instead."""

    model_config = ConfigDict(extra="forbid")

    answers: dict[str, bool] = Field(default_factory=dict, max_length=100)
    note: str | None = Field(default=None, min_length=1, max_length=5000)


class TaskView(BaseModel):
    id: str
    connector: str
    action: str
    phase: int
    status: str
    attempts: int
    max_attempts: int
    last_error: str | None
    error_kind: str | None
    created_at: datetime
    started_at: datetime | None
    last_attempt_at: datetime | None
    finished_at: datetime | None
    next_attempt_at: datetime | None
    duration_seconds: float | None
    result: dict[str, Any] | None
    checklist: dict[str, Any] | None
