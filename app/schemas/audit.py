"""Views of ``/v1/audit``."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class AuditEventView(BaseModel):
    seq: int
    global_seq: int
    at: datetime
    actor: str
    action: str
    request_id: str | None
    from_status: str | None
    to_status: str | None
    detail: dict[str, Any]
    hash: str
    prev_hash: str
    global_prev_hash: str


class AuditFinding(BaseModel):
    """Something wrong with the trail, and where."""

    problem: Literal[
        "altered", "missing", "missing_tail", "missing_stream", "unanchored", "checkpoint"
    ]
    stream: str | None = Field(description="the request id, or `system`; null when unknown")
    request_id: str | None
    seq: int | None = Field(description="the event's number in its stream")
    global_seq: int | None = Field(description="the event's number in the global chain")
    detail: str


class ChainCheck(BaseModel):
    """The stream's own chain: keyed links and its head."""

    verified: bool
    events: int
    broken_at: list[int] = Field(description="stream sequence numbers that are altered or gone")
    findings: list[AuditFinding] = Field(default_factory=list)


class TrailCheck(BaseModel):
    """The global chain over every stream, from an anchor (a checkpoint, or genesis) on."""

    verified: bool
    anchor: Literal["checkpoint", "latest_checkpoint", "genesis"]
    anchor_global_seq: int
    head_global_seq: int | None
    events_checked: int
    findings: list[AuditFinding]


class AuditPage(BaseModel):
    stream: str
    chain: ChainCheck
    trail: TrailCheck
    items: list[AuditEventView]
    next_cursor: str | None


class CheckpointView(BaseModel):
    """A signed checkpoint: keep ``checkpoint`` outside the database and give it back to
    ``GET /v1/audit?checkpoint=`` (or ``innsyn audit verify --checkpoint``)."""

    id: int
    global_seq: int
    hash: str
    at: datetime
    actor: str
    checkpoint: str
    key_id: str
    public_key: str = Field(
        description="Ed25519 public key (urlsafe base64) that signs checkpoints"
    )


class CheckpointPage(BaseModel):
    items: list[CheckpointView]
    next_cursor: str | None
