"""Webhook subscriptions, their durable delivery log, and deadline alerts already fired."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from app.db.types import UTCDateTime


class WebhookSubscription(SQLModel, table=True):
    __tablename__ = "webhooks"

    id: str = Field(primary_key=True, max_length=40)
    url: str = Field(max_length=2000)
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    description: str | None = Field(default=None, max_length=200)
    secret_ciphertext: str
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)


class WebhookDelivery(SQLModel, table=True):
    """One event for one subscriber: the outbox row, its retries and every attempt's result."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: str = Field(primary_key=True, max_length=40)  # the ``webhook-id`` header
    webhook_id: str = Field(foreign_key="webhooks.id", max_length=40, index=True)
    event_type: str = Field(max_length=40)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)  # pending, delivered, failed
    attempts: int = 0
    created_at: datetime = Field(sa_type=UTCDateTime)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=300)
    attempt_log: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )


class DeadlineAlert(SQLModel, table=True):
    """An alert point that has fired for a request; the primary key makes it fire once."""

    __tablename__ = "deadline_alerts"

    request_id: str = Field(primary_key=True, foreign_key="requests.id", max_length=40)
    alert: str = Field(primary_key=True, max_length=32)
    fired_at: datetime = Field(sa_type=UTCDateTime)
