"""Views of ``/v1/audit``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditEventView(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    request_id: str | None
    from_status: str | None
    to_status: str | None
    detail: dict[str, Any]
    hash: str
    prev_hash: str


class ChainCheck(BaseModel):
    verified: bool
    events: int
    broken_at: list[int]


class AuditPage(BaseModel):
    stream: str
    chain: ChainCheck
    items: list[AuditEventView]
    next_cursor: str | None
