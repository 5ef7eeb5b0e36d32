"""Releasing an answer after review, with what is withheld (Art. 15(4))."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Redaction(BaseModel):
    """One record, or one field of it, withheld from the person's answer, and why."""

    model_config = ConfigDict(extra="forbid")

    system: str = Field(min_length=1, max_length=100)
    category: str = Field(min_length=1, max_length=100)
    record: int = Field(ge=0, description="The record's position in its category (from 0)")
    field: str | None = Field(
        default=None, max_length=100, description="One field; without it, the whole record"
    )
    reason: str = Field(
        min_length=3, max_length=500, description="Shown to the person, e.g. another's data"
    )


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    redactions: list[Redaction] = Field(default_factory=list, max_length=500)
