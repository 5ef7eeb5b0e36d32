"""The answer to an access (Art. 15) or portability (Art. 20) request, as typed data.

Every text is already in the request's language and every value already formatted for a
person; ``key`` and ``value`` keep what a machine needs (Art. 20 portability)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr


class Party(BaseModel):
    name: str
    contact: str | None = None


class ReportField(BaseModel):
    key: str = Field(description="The field's name in the source system.")
    label: str = Field(description="Its plain name in the answer's language.")
    text: str = Field(description="The value as a person reads it (dates, amounts formatted).")
    value: Any = Field(default=None, description="The value as stored, for machines.")
    redacted: bool = False


class ReportRecord(BaseModel):
    fields: list[ReportField]


class TransferOut(BaseModel):
    country_code: str
    country: str
    safeguard: str
    recipient: str | None = None


class CategoryFacts(BaseModel):
    """Art. 15(1) per category: (a) purpose, (b) what, (c) recipients, (d) retention, (g)
    source, (h) automated decisions; 15(2) transfers outside the EEA."""

    purpose: str
    description: str
    legal_basis: str
    recipients: list[str]
    retention: str
    source: str
    automated_decisions: str
    transfers: list[TransferOut]
    transfers_stated: bool = Field(description="False: the system did not state its transfers.")


class Attachment(BaseModel):
    """A file of a record (a mail attachment, a scan)."""

    name: str
    size: int | None = Field(default=None, description="Bytes; None if not known")
    size_text: str | None = Field(default=None, description="The size for a person: 1,2 MB")
    media_type: str | None = None
    path: str | None = Field(
        default=None, description="Where the file is in the zip download; None: not stored"
    )
    _stored: tuple[str, int] | None = PrivateAttr(default=None)  # file id, CRC-32
    _record: int | None = PrivateAttr(default=None)  # the record it belongs to

    @property
    def stored(self) -> tuple[str, int] | None:
        """The stored file behind it (for the zip), never in the JSON."""
        return self._stored

    @property
    def record(self) -> int | None:
        return self._record


class RefusedPart(BaseModel):
    """This category is left out of the answer: the reason, its law, staff's explanation."""

    reason: str
    law: str
    explanation: str


class CategoryAnswer(BaseModel):
    category: str
    title: str
    facts: CategoryFacts
    provided_by_subject: bool
    records: list[ReportRecord]
    attachments: list[Attachment] = Field(default_factory=list)
    cut: bool = Field(default=False, description="Some text was shortened in the page.")
    refused: RefusedPart | None = Field(
        default=None, description="Refused in part (D9): the records are not given, and why"
    )


class SystemAnswer(BaseModel):
    system: str
    title: str
    external_controller: str | None = None
    self_service_url: str | None = None
    categories: list[CategoryAnswer]


class KeptItem(BaseModel):
    system: str
    categories: list[str]
    reason: str
    law: str | None = None
    until: date | None = None
    until_text: str


class Right(BaseModel):
    code: str
    title: str
    text: str
    url: str | None = Field(default=None, description="Where to file this right")


class SummaryItem(BaseModel):
    article: Literal[
        "15(1)(a)",
        "15(1)(b)",
        "15(1)(c)",
        "15(1)(d)",
        "15(1)(e)",
        "15(1)(f)",
        "15(1)(g)",
        "15(1)(h)",
        "15(2)",
    ]
    heading: str
    lines: list[str]


class RequestFacts(BaseModel):
    id: str
    kind: str
    received_at: datetime
    completed_at: datetime | None
    received_text: str
    completed_text: str | None


class Report(BaseModel):
    """The answer, in one language throughout."""

    language: Literal["nb", "en"]
    title: str
    request: RequestFacts
    controller: Party
    dpo: Party | None = None
    confirmation: str
    found_data: bool
    summary: list[SummaryItem]
    systems: list[SystemAnswer]
    kept: list[KeptItem]
    rights: list[Right]
    how_to_use_rights: str
    complaint: str
