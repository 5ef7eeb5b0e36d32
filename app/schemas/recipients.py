"""Shapes of the Art. 19 recipient endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class RecipientView(BaseModel):
    """A recipient and how it is told; never its secret, and the e-mail or URL host only."""

    name: str
    notify: str
    target: str | None = Field(description="E-mail, webhook host or connector it goes through")
    reason: str | None = Field(description="Why telling it is disproportionate")
    categories: list[str] = Field(description="'system/category' that name this recipient")
    configured: bool


class RecipientList(BaseModel):
    items: list[RecipientView]


class NoticeResolution(BaseModel):
    """Staff settle a notice Innsyn could not send."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["sent", "disproportionate", "retry"] = Field(
        description="sent: told another way; disproportionate: impossible or "
        "disproportionate (Art. 19); retry: send again"
    )
    reason: str = Field(min_length=3, max_length=2000, description="What was done, or why not")


class NoticeView(BaseModel):
    """One Art. 19 notice: route and state; the message itself stays sealed."""

    id: str
    recipient: str
    notify: str
    action: str
    changes: list[dict[str, Any]]
    status: str
    reason: str | None
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    resolved_by: str | None
