"""Art. 19 notices: one row per recipient and action of a request, with its delivery state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from app.db.types import UTCDateTime


class RecipientNotice(SQLModel, table=True):
    """What one recipient must hear of (categories, never values) and whether it did.

    The message itself (identifiers the recipient needs, corrected values) is sealed in
    ``payload_ciphertext``; only its route and state are readable.
    """

    __tablename__ = "recipient_notices"
    __table_args__ = (Index("ix_recipient_notices_due", "status", "next_attempt_at"),)

    id: str = Field(primary_key=True, max_length=40)
    request_id: str = Field(foreign_key="requests.id", max_length=40, index=True)
    recipient: str = Field(max_length=200)
    notify: str = Field(max_length=20)  # email, webhook, connector, disproportionate, unconfigured
    action: str = Field(max_length=24)  # erasure, rectification, restriction, restriction_lifted
    changes: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=20)  # pending, sent, failed, disproportionate, needs_staff
    reason: str | None = Field(default=None, max_length=2000)
    payload_ciphertext: str | None = None
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=300)
    created_at: datetime = Field(sa_type=UTCDateTime)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    resolved_by: str | None = Field(default=None, max_length=200)
