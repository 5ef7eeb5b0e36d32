"""Letters to the person, queued in the transaction that causes them and sent after commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.db.types import UTCDateTime
from app.domain.deliveries import LetterStatus

__all__ = ["LetterStatus", "OutgoingLetter"]


class OutgoingLetter(SQLModel, table=True):
    """One letter. Its address and text are personal data (a code, a name): sealed, and
    dropped once the letter has left, so only the facts stay (what, when, delivered)."""

    __tablename__ = "letters"
    __table_args__ = (Index("ix_letters_due", "status", "next_attempt_at"),)

    id: str = Field(primary_key=True, max_length=40)
    request_id: str = Field(foreign_key="requests.id", max_length=40, index=True)
    kind: str = Field(max_length=32)
    channel: str = Field(default="email", max_length=16)  # email | post
    status: str = Field(default=LetterStatus.pending.value, max_length=16)
    attempts: int = 0
    created_at: datetime = Field(sa_type=UTCDateTime)
    next_attempt_at: datetime = Field(sa_type=UTCDateTime)
    lease_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=300)
    content_ciphertext: str | None = None
