"""Bodies and views of ``/v1/holds``."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field, model_validator

from app.schemas.identifiers import NationalId


class HoldSubject(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr | None = None
    national_id: NationalId | None = None
    customer_ids: dict[str, str] = Field(default_factory=dict, max_length=20)


class HoldCreate(BaseModel):
    """Place a hold by hand: for a person (``subject``) or the person of ``request_id``."""

    model_config = ConfigDict(extra="forbid")

    basis_code: str = Field(max_length=48)
    connector: str = Field(max_length=100, description="A configured connector, or '*' for all")
    categories: list[str] = Field(min_length=1, max_length=50)
    reason: str = Field(min_length=3, max_length=2000)
    request_id: str | None = Field(default=None, max_length=40)
    subject: HoldSubject | None = None
    until: date | None = None
    event_date: date | None = Field(
        default=None, description="The event the basis counts from (e.g. the invoice date)."
    )
    condition: str | None = Field(default=None, max_length=300)
    reference: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _someone(self) -> HoldCreate:
        if self.request_id is None and (
            self.subject is None
            or not (self.subject.email or self.subject.national_id or self.subject.customer_ids)
        ):
            raise ValueError("name the person: request_id, or a subject with an identifier")
        return self


class HoldRelease(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=3, max_length=2000)


class HoldView(BaseModel):
    id: str
    basis_code: str
    law: str | None
    gdpr_exemption: str | None
    connector: str
    categories: list[str]
    fields: dict[str, list[str]] | None = Field(
        default=None,
        description="Per category, the only fields the hold keeps (the rest was erased); a "
        "category not named is kept whole.",
    )
    source: str
    status: str
    until: date | None
    condition: str | None
    reference: str | None
    request_id: str | None
    placed_at: datetime
    placed_by: str
    ended_at: datetime | None
    ended_by: str | None
    follow_up_request_id: str | None
    last_checked_at: datetime | None = Field(
        description="When the connector last confirmed the hold's condition still holds."
    )


class HoldPage(BaseModel):
    items: list[HoldView]
    next_cursor: str | None


class HoldBasisView(BaseModel):
    code: str
    law: str
    gdpr_exemption: str
    end_rule: str
    months: int | None
    nb: str
    en: str
    fields: list[str] = Field(
        description="The fields the law requires kept (empty: what the categories hold)."
    )
    blocks_erasure: bool = Field(
        description="False for a company retention schedule without an Art. 17(3) ground: "
        "shown in the report, never keeps data an erasure request reaches."
    )


class HoldCatalogueView(BaseModel):
    items: list[HoldBasisView]
