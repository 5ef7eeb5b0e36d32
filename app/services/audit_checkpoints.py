"""Signed checkpoints of the global audit chain: taken on demand, kept here and elsewhere."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import AuditCheckpoint
from app.domain.audit import Checkpoint, Finding, InvalidCheckpoint
from app.services import audit
from app.store.pages import NUMBER, Page, newest_first


async def take(session: AsyncSession, *, at: datetime, actor: str) -> AuditCheckpoint:
    """Append ``audit.checkpoint`` and sign the global head it becomes: the checkpoint covers
    its own event, so deleting the record of taking it is caught too."""
    event = await audit.append(session, at=at, actor=actor, action="audit.checkpoint")
    await audit.chain(session)  # numbered and hashed now: the checkpoint signs that head
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


async def page(session: AsyncSession, *, limit: int, cursor: str | None) -> Page[AuditCheckpoint]:
    """Checkpoints taken, newest first."""
    query = select(AuditCheckpoint)
    return await newest_first(
        session, query, AuditCheckpoint.id, limit=limit, cursor=cursor, spelling=NUMBER
    )


async def latest(session: AsyncSession) -> tuple[Checkpoint | None, list[Finding]]:
    """The newest stored checkpoint whose signature holds; a forged one is a finding."""
    key = audit.key_of(session)
    findings: list[Finding] = []
    for row in (await page(session, limit=20, cursor=None)).items:
        try:
            return key.open(row.token), findings
        except InvalidCheckpoint:
            findings.append(
                Finding("checkpoint", global_seq=row.global_seq, detail="stored checkpoint forged")
            )
    return None, findings
