"""Bodies and views of ``/v1/webhooks``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000)
    events: list[str] = Field(
        default_factory=list, max_length=20, description="Event types; empty means all."
    )
    description: str | None = Field(default=None, max_length=200)


class WebhookView(BaseModel):
    id: str
    url: str
    events: list[str]
    description: str | None
    active: bool
    created_at: datetime


class WebhookCreated(WebhookView):
    secret: str = Field(description="Signing secret (Standard Webhooks); shown once.")


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    active: bool | None = Field(
        default=None, description="false pauses deliveries (they wait); true resumes them."
    )
    rotate_secret: bool = Field(
        default=False, description="Replace the signing secret; the new one is shown once."
    )


class WebhookUpdated(WebhookView):
    secret: str | None = Field(
        default=None, description="The new signing secret when rotated; shown once."
    )


class WebhookList(BaseModel):
    items: list[WebhookView]


class DeliveryView(BaseModel):
    id: str
    event_type: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime
    delivered_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    attempt_log: list[dict[str, Any]]
    payload: dict[str, Any]


class DeliveryPage(BaseModel):
    items: list[DeliveryView]
    next_cursor: str | None
