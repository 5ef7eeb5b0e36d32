"""The data-subject request and its identity challenge."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from app.db.types import UTCDateTime


class DsrRequest(SQLModel, table=True):
    """One request from one person. Personal data lives only in the encrypted columns."""

    __tablename__ = "requests"
    __table_args__ = (
        Index("ix_requests_status_due", "status", "effective_due_at"),
        Index("ix_requests_updated_at", "updated_at"),
    )

    id: str = Field(primary_key=True, max_length=40)
    kind: str = Field(max_length=32, index=True)
    status: str = Field(max_length=32)
    channel: str = Field(max_length=16)
    language: str = Field(max_length=2)

    received_at: datetime = Field(sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    verified_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    # Deadlines (rules.md D3-D8): ``target`` is not rolled, ``legal`` is; alerts use target.
    target_due_date: date
    legal_due_date: date
    extension_months: int = 0
    extended_target_date: date | None = None
    extended_legal_date: date | None = None
    extended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # End of the legal deadline in force (extended or not): what filters and alerts compare.
    effective_due_at: datetime = Field(sa_type=UTCDateTime)
    # When the deadline sweep looks at it next (an alert point may be reached then); set to
    # "now" by whatever changes the deadline, None once nothing is left to announce.
    next_alert_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)

    # Encrypted JSON blobs (subject identifiers, request details, free-text reasons).
    subject_ciphertext: str
    details_ciphertext: str | None = None
    notes_ciphertext: str | None = None
    # Keyed hashes of identifiers, so staff can find a person's requests without plaintext.
    email_hash: str | None = Field(default=None, max_length=64, index=True)
    national_id_hash: str | None = Field(default=None, max_length=64, index=True)

    verification_method: str = Field(max_length=16)
    verification_state: str = Field(max_length=16)
    # What verification proved (app.domain.identity.Identity): kinds, methods, times, the
    # issuer and a keyed hash of its ``sub``; no identifier values.
    identity: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    status_token_hash: str = Field(max_length=64)

    refusal_code: str | None = Field(default=None, max_length=48)
    # An approver's 21(1) decision (app.domain.objections.Decision) and the erasure an upheld
    # one filed; the grounds stay sealed in the notes.
    objection_decision: str | None = Field(default=None, max_length=16)
    objection_follow_up_id: str | None = Field(default=None, max_length=40)
    created_by: str = Field(max_length=200)
    outcome: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    # Raised with every change the staff view shows (app.db.versions): the view's ETag.
    version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})


class VerificationChallenge(SQLModel, table=True):
    """A one-time code sent to the subject's e-mail; only its slow hash is kept."""

    __tablename__ = "verification_challenges"

    request_id: str = Field(primary_key=True, foreign_key="requests.id", max_length=40)
    code_hash: str = Field(max_length=200)
    sent_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    attempts: int = 0
    sends: int = 1


class UsedIdToken(SQLModel, table=True):
    """An ID token that verified a request, remembered until it expires: one token, one use.
    The console keeps its used-up tokens here too (``request_id`` then names the kind: a staff
    ID token that started a session, "console-login"; a logged-out session, "console-session")."""

    __tablename__ = "used_id_tokens"

    token_hash: str = Field(primary_key=True, max_length=64)
    request_id: str = Field(max_length=40)
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
