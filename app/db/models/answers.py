"""Download links for the answer: made for the answer alone, short-lived, revocable, counted."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db.types import UTCDateTime


class AnswerLink(SQLModel, table=True):
    """One link. Only a hash finds it; the link itself is sealed so the person's status page
    can show it again, and never logged."""

    __tablename__ = "answer_links"

    id: str = Field(primary_key=True, max_length=40)
    request_id: str = Field(foreign_key="requests.id", max_length=40, index=True)
    token_hash: str = Field(max_length=64, unique=True)
    token_ciphertext: str
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_by: str | None = Field(default=None, max_length=200)
    downloads: int = 0
    last_download_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
