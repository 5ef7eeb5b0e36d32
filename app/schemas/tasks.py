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


class FindingIn(BaseModel):
    """One item found by hand (e.g. a signed contract in the paper archive)."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(min_length=1, max_length=100, description="A declared category")
    description: str = Field(min_length=1, max_length=5000)
    values: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict, max_length=100, description="Structured values, e.g. dates"
    )


class AttachmentIn(BaseModel):
    """A file found by hand (a scan), as standard base64 inside the JSON body; the whole body
    is limited by ``INNSYN_MAX_BODY_BYTES``."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(min_length=1, max_length=100, description="A declared category")
    file_name: str = Field(min_length=1, max_length=200)
    content_type: str = Field(
        default="application/octet-stream", max_length=100, pattern=r"^[\w.+-]+/[\w.+-]+$"
    )
    content_base64: str = Field(min_length=1)
    description: str | None = Field(default=None, max_length=2000)


class TaskCompleteIn(BaseModel):
    """Closing a task by hand. Every checklist item is answered; an item answered ``false``
    is not done, so the task stays open unless it ends as not possible, with the reason.
    A failed task closed by hand needs a note on what was done instead. A collect task may
    record what was found (``findings``, ``files``): sealed, and in the person's report."""

    model_config = ConfigDict(extra="forbid")

    answers: dict[str, bool] = Field(default_factory=dict, max_length=100)
    note: str | None = Field(default=None, min_length=1, max_length=5000)
    not_possible_reason: str | None = Field(
        default=None,
        min_length=3,
        max_length=2000,
        description=(
            "End the task as not_possible: why the work cannot be done. Written to the "
            "person: it goes into the outcome and the completion letter."
        ),
    )
    findings: list[FindingIn] = Field(default_factory=list, max_length=200)
    files: list[AttachmentIn] = Field(default_factory=list, max_length=20)


class TaskView(BaseModel):
    id: str
    connector: str
    action: str
    phase: int
    status: str
    attempts: int
    interrupted_attempts: int = Field(
        default=0, description="Attempts that may have acted but never reported (crash, timeout)"
    )
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
