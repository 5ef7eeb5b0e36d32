"""Legal holds: a person × connector × data categories kept under a basis until an end."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from app.db.types import UTCDateTime


class LegalHold(SQLModel, table=True):
    __tablename__ = "legal_holds"
    __table_args__ = (Index("ix_legal_holds_status_until", "status", "until"),)

    id: str = Field(primary_key=True, max_length=40)
    basis_code: str = Field(max_length=48)
    connector: str = Field(max_length=100)
    categories: list[str] = Field(sa_column=Column(JSON, nullable=False))
    # Per category, the only fields the hold keeps (a category not named is kept whole).
    fields: dict[str, list[str]] | None = Field(default=None, sa_column=Column(JSON))
    source: str = Field(max_length=16)  # "connector" or "staff"
    status: str = Field(default="active", max_length=16)  # app.domain.holds.HoldStatus
    until: date | None = None
    condition: str | None = Field(default=None, max_length=300)
    reference: str | None = Field(default=None, max_length=100)
    request_id: str | None = Field(default=None, foreign_key="requests.id", max_length=40)
    # Who it is about: keyed hashes to match future requests, the identifiers sealed.
    email_hash: str | None = Field(default=None, max_length=64, index=True)
    national_id_hash: str | None = Field(default=None, max_length=64, index=True)
    subject_ciphertext: str
    reason_ciphertext: str | None = None
    placed_at: datetime = Field(sa_type=UTCDateTime)
    placed_by: str = Field(max_length=200)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_by: str | None = Field(default=None, max_length=200)
    follow_up_request_id: str | None = Field(default=None, max_length=40)
    # When the connector was last asked whether the condition still holds (connector holds).
    last_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
