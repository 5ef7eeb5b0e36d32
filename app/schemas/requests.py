"""Request bodies and views of ``/v1/requests`` (the contract in api.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    model_validator,
)

from app.domain.refusals import RefusalReason
from app.domain.requests import Channel, RequestKind, RequestStatus
from app.schemas.answers import AnswerLinkView
from app.schemas.identifiers import NationalId, Phone
from app.schemas.times import Rfc3339


class Subject(BaseModel):
    """Who the request is about. At least one identifier that can find their data."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: EmailStr | None = None
    phone: Phone | None = None
    name: str | None = Field(default=None, max_length=200)
    national_id: NationalId | None = None
    customer_ids: dict[str, str] = Field(default_factory=dict, max_length=50)

    @model_validator(mode="after")
    def _identifiable(self) -> Subject:
        if not (self.email or self.phone or self.national_id or self.customer_ids):
            raise ValueError(
                "subject needs at least one of email, phone, national_id or customer_ids"
            )
        return self


CheckedIdentifier = Literal["email", "phone", "national_id", "customer_ids"]


class VerificationIn(BaseModel):
    """A staff attestation: what the operator checked, and how (the note)."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["staff"]
    note: str = Field(min_length=1, max_length=2000)
    checked: list[CheckedIdentifier] | None = Field(
        default=None,
        min_length=1,
        description="The identifiers the operator actually checked: only these are proven. "
        "Without it, the operator vouches for every identifier in the subject (recorded as a "
        "blanket attestation).",
    )


class RequestCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: RequestKind
    subject: Subject
    language: Literal["nb", "en"] | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    id_token: str | None = Field(default=None, max_length=16_000)
    id_token_nonce: str | None = Field(
        default=None, max_length=200, description="The nonce the form sent to the issuer."
    )
    channel: Channel | None = None
    received_at: Rfc3339 | None = Field(
        default=None,
        description="Staff: when the letter or e-mail arrived (RFC 3339 with a time zone); "
        "not in the future, nor more than INNSYN_RECEIVED_AT_HORIZON_DAYS ago.",
    )
    verification: VerificationIn | None = None

    @model_validator(mode="after")
    def _rectification_changes(self) -> RequestCreate:
        """A rectification says what to correct: ``details.changes``, field -> new value."""
        if self.kind is RequestKind.rectification:
            changes = self.details.get("changes")
            if not isinstance(changes, dict) or not changes:
                raise ValueError(
                    "a rectification needs details.changes: an object of field -> new value, "
                    'e.g. {"changes": {"address": "Storgata 1, 0155 Oslo"}}'
                )
            if any(
                not str(k).strip() or not isinstance(v, str | int | float)
                for k, v in changes.items()
            ):
                raise ValueError("details.changes: each field needs a name and a new value (text)")
        return self


class VerificationView(BaseModel):
    method: str
    state: str
    verified_at: datetime | None = None


class RequestCreated(BaseModel):
    id: str
    kind: RequestKind
    status: RequestStatus
    received_at: datetime
    due_at: datetime
    status_token: str = Field(description="Shown once: lets the person see status and withdraw.")
    verification: VerificationView


class TimelineEntry(BaseModel):
    at: datetime
    actor: str
    action: str
    from_status: str | None
    to_status: str | None
    detail: dict[str, Any]


class ExtensionView(BaseModel):
    months: int
    reason: str | None
    extended_at: datetime | None


class RequestSummary(BaseModel):
    id: str
    kind: RequestKind
    status: RequestStatus
    channel: Channel
    language: str
    received_at: datetime
    due_at: datetime
    extended_due_at: datetime | None
    effective_due_at: datetime
    target_due_date: date
    legal_due_date: date
    overdue: bool
    verification: VerificationView
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None


class LetterView(BaseModel):
    id: str
    kind: str = Field(description="e.g. acknowledgement, verification_code, completion")
    channel: str
    status: str = Field(description="pending, sending, sent or failed")
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    last_error: str | None


class RequestView(RequestSummary):
    subject: dict[str, Any]
    identity: IdentityView
    details: dict[str, Any]
    extension: ExtensionView | None
    refusal: dict[str, Any] | None
    timeline: list[TimelineEntry]
    tasks: list[dict[str, Any]] = Field(default_factory=list)
    holds: list[dict[str, Any]] = Field(default_factory=list)
    recipient_notices: list[dict[str, Any]] = Field(
        default_factory=list, description="Art. 19: each recipient told, or why not"
    )
    letters: list[LetterView] = Field(
        default_factory=list, description="Every letter to the person and whether it left"
    )
    outcome: dict[str, Any] | None
    answer_links: list[AnswerLinkView] = Field(
        default_factory=list,
        description="Download links of the answer: state and downloads, never the link",
    )
    allowed_actions: list[str]


class RequestPage(BaseModel):
    items: list[RequestSummary]
    next_cursor: str | None


class ExtendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    months: int = Field(ge=1, le=2)
    reason: str = Field(min_length=3, max_length=2000)


class RefusePartIn(BaseModel):
    """Refuse part of a request: one system's category (access, portability, erasure,
    objection, consent withdrawal), one system (restriction) or one change (rectification)."""

    model_config = ConfigDict(extra="forbid")

    system: str | None = Field(default=None, max_length=100)
    category: str | None = Field(default=None, max_length=100)
    field: str | None = Field(
        default=None, max_length=100, description="Rectification: the change refused"
    )
    reason_code: RefusalReason
    explanation: str = Field(min_length=3, max_length=5000)
    evidence: str | None = Field(default=None, min_length=3, max_length=5000)


class RefuseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason_code: RefusalReason = Field(
        description="Each code may refuse only the request kinds its law covers; another "
        "kind is a 422 problem."
    )
    explanation: str = Field(min_length=3, max_length=5000)
    evidence: str | None = Field(
        default=None,
        min_length=3,
        max_length=5000,
        description="What was checked; required for `accurate` (rectification refused "
        "because the data is correct). Kept in the record, not sent in the letter.",
    )


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str | None = Field(default=None, max_length=2000)
    token: str | None = Field(default=None, max_length=200, description="the status token")


class CodeIn(BaseModel):
    """The e-mail code (form), an ID token (form), or a staff attestation (operator)."""

    model_config = ConfigDict(extra="forbid")

    code: str | None = Field(default=None, min_length=4, max_length=12)
    method: Literal["staff"] | None = None
    note: str | None = Field(default=None, max_length=2000)
    checked: list[CheckedIdentifier] | None = Field(
        default=None,
        min_length=1,
        description="Staff: the identifiers checked (only these become proven); without it, "
        "every identifier in the subject (a blanket attestation).",
    )
    id_token: str | None = Field(
        default=None,
        max_length=16_000,
        description="An ID token from the identity provider: verifies the request, or proves "
        "more (step-up) for systems that need a stronger proof.",
    )
    id_token_nonce: str | None = Field(default=None, max_length=200)


class IdentityNeeded(BaseModel):
    """Systems that wait until the person proves more, and how to do it."""

    systems: list[str]
    how: str = Field(description="In the request's language: what the person can do.")
    verification_url: str = Field(
        description="Where the form posts the ID token: POST with {id_token, id_token_nonce}."
    )


class SubjectStatus(BaseModel):
    id: str
    kind: RequestKind
    status: RequestStatus
    due_at: datetime
    extended_due_at: datetime | None
    completed_at: datetime | None
    download_url: str | None = Field(
        description="The answer's own download link once it is ready (short-lived; a new one "
        "is shown after it expires); open it with ?format=html, pdf, json, portable or zip"
    )
    identity_needed: IdentityNeeded | None = None


class ProofView(BaseModel):
    method: str = Field(description="email_code, oidc, staff or inherited")
    kinds: list[str] = Field(description="The identifiers this proof proved")
    at: datetime
    blanket: bool = Field(
        default=False, description="Staff vouched for every identifier without naming them"
    )
    issuer: str | None = None
    subject_hash: str | None = Field(
        default=None, description="Keyed hash of the ID token's sub: who logged in"
    )


class IdentityView(BaseModel):
    """Which of the subject's identifiers are proven (and how) and which are only claimed:
    only proven ones reach the systems."""

    proven: list[str]
    claimed: list[str]
    proofs: list[ProofView]
    waiting_systems: list[str] = Field(
        default_factory=list, description="Systems that wait for a stronger proof"
    )


class ObjectionDecisionIn(BaseModel):
    """Art. 21(1): uphold the objection, or keep processing on compelling legitimate grounds."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["upheld", "rejected"]
    grounds: str = Field(min_length=3, max_length=5000)
    categories: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]] = Field(
        default_factory=list,
        max_length=200,
        description="Upheld: stop only these categories (default: every category processed "
        "on GDPR 6(1)(e) or (f))",
    )


class LiftRestrictionIn(BaseModel):
    """Art. 18(3): lift a restriction; the person is told first, with the reason and date."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000, description="Told to the person")
    effective_at: Rfc3339 | None = Field(
        default=None,
        description="When the lift runs (now to 28 days ahead; default: "
        "INNSYN_RESTRICTION_LIFT_NOTICE_DAYS from now)",
    )
    informed_otherwise: str | None = Field(
        default=None,
        max_length=2000,
        description="Required when the request has no e-mail: how the person was told",
    )
