"""What staff see of the answer's download links."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class AnswerLinkView(BaseModel):
    id: str
    created_at: datetime
    expires_at: datetime
    state: Literal["active", "expired", "revoked"]
    revoked_at: datetime | None
    downloads: int = Field(description="How many times the answer was fetched with it")
    last_download_at: datetime | None


class AnswerLinkIssued(BaseModel):
    url: str = Field(description="The new link; shown here once, and on the status page")
    links: list[AnswerLinkView]
