"""Checking the whole global audit chain from an anchor: a checkpoint, or genesis."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import AuditEvent
from app.domain.audit import (
    GENESIS,
    GLOBAL_STREAM,
    Check,
    Checkpoint,
    Finding,
    Head,
    anchor_findings,
    check_global,
)
from app.services import audit, audit_checkpoints


@dataclass
class TrailCheck:
    check: Check
    anchor: str  # "checkpoint" (given), "latest_checkpoint" (stored), or "genesis"
    anchor_global_seq: int
    head_global_seq: int | None


async def check_trail(
    session: AsyncSession, checkpoint: Checkpoint | None, *, from_genesis: bool = False
) -> TrailCheck:
    """The global chain from ``checkpoint`` to its head: gaps, edits, missing tails, rollback.

    Without a checkpoint, from the latest stored one (so a check costs what was written since),
    or from genesis when asked."""
    key = audit.key_of(session)
    source = "checkpoint"
    findings: list[Finding] = []
    if checkpoint is None and not from_genesis:
        checkpoint, findings = await audit_checkpoints.latest(session)
        source = "latest_checkpoint" if checkpoint is not None else "genesis"
    elif checkpoint is None:
        source = "genesis"
    head = await audit.head_of(session, GLOBAL_STREAM)
    anchor = Head(0, GENESIS)
    if checkpoint is not None:
        stored = (
            await session.exec(
                select(AuditEvent).where(AuditEvent.global_seq == checkpoint.global_seq)
            )
        ).first()
        findings += anchor_findings(checkpoint, audit.link(stored) if stored else None, head)
        anchor = Head(checkpoint.global_seq, checkpoint.hash)
    events = await session.exec(
        select(AuditEvent)
        .where(col(AuditEvent.global_seq) > anchor.seq)
        .order_by(col(AuditEvent.global_seq))
    )
    check = check_global(key, (audit.link(e) for e in events), head, anchor=anchor)
    check.findings[:0] = findings
    return TrailCheck(
        check=check,
        anchor=source,
        anchor_global_seq=anchor.seq,
        head_global_seq=head.seq if head else None,
    )
