"""Signed checkpoints of the global audit chain: taken on demand, kept here and elsewhere."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import AuditCheckpoint
from app.domain.audit import Checkpoint, Finding, InvalidCheckpoint
from app.services import audit


async def take(session: AsyncSession, *, at: datetime, actor: str) -> AuditCheckpoint:
    """Append ``audit.checkpoint`` and sign the global head it becomes: the checkpoint covers
    its own event, so deleting the record of taking it is caught too."""
    event = await audit.append(session, at=at, actor=actor, action="audit.checkpoint")
    key = audit.key_of(session)
    checkpoint = Checkpoint(global_seq=event.global_seq, hash=event.hash, at=at, key_id=key.key_id)
    row = AuditCheckpoint(
        global_seq=checkpoint.global_seq,
        hash=checkpoint.hash,
        at=at,
        actor=actor,
        token=key.sign(checkpoint),
    )
    session.add(row)
    await session.flush()
    return row


async def listed(
    session: AsyncSession, *, limit: int, before: int | None = None
) -> list[AuditCheckpoint]:
    query = select(AuditCheckpoint).order_by(col(AuditCheckpoint.id).desc()).limit(limit)
    if before is not None:
        query = query.where(col(AuditCheckpoint.id) < before)
    return list(await session.exec(query))


async def latest(session: AsyncSession) -> tuple[Checkpoint | None, list[Finding]]:
    """The newest stored checkpoint whose signature holds; a forged one is a finding."""
    key = audit.key_of(session)
    findings: list[Finding] = []
    for row in await listed(session, limit=20):
        try:
            return key.open(row.token), findings
        except InvalidCheckpoint:
            findings.append(
                Finding("checkpoint", global_seq=row.global_seq, detail="stored checkpoint forged")
            )
    return None, findings
