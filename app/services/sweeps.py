"""Periodic housekeeping: close requests never verified, purge collected data after the end.

Each sweep is safe to run on several replicas at once: it works row by row under locks and
every change goes through the normal lifecycle rules.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import col, delete, select

from app.db.models import CollectedData, DsrRequest, VerificationChallenge
from app.domain.requests import TERMINAL, Action, RequestStatus
from app.runtime import Runtime
from app.security import SYSTEM
from app.services import audit, collected_files, notices
from app.services.requests import transition
from app.store.locks import skip_locked


async def close_unverified(rt: Runtime) -> int:
    """Requests whose person never confirmed who they are close as ``closed_unverified``."""
    cutoff = rt.clock.now() - timedelta(days=rt.settings.unverified_close_days)
    closed = 0
    async with rt.db.session() as session:
        query = select(DsrRequest).where(
            DsrRequest.status == RequestStatus.received.value,
            col(DsrRequest.created_at) < cutoff,
        )
        for request in list(await session.exec(skip_locked(query, rt.db))):
            await transition(
                rt,
                session,
                request,
                Action.close_unverified,
                SYSTEM,
                detail={"after_days": rt.settings.unverified_close_days},
            )
            await notices.closed_unverified(rt, session, request)
            await session.exec(
                delete(VerificationChallenge).where(
                    col(VerificationChallenge.request_id) == request.id
                )
            )
            closed += 1
    return closed


async def purge_collected(rt: Runtime) -> int:
    """Delete what connectors collected once the request has been closed long enough.

    The request's facts (dates, decision, reasons, audit trail) stay (rules.md §6).
    """
    cutoff = rt.clock.now() - timedelta(days=rt.settings.purge_after_days)
    purged = 0
    async with rt.db.session() as session:
        ended = select(DsrRequest.id).where(
            col(DsrRequest.status).in_([s.value for s in TERMINAL]),
            col(DsrRequest.closed_at) < cutoff,
        )
        request_ids = sorted(
            set(
                await session.exec(
                    select(CollectedData.request_id).where(col(CollectedData.request_id).in_(ended))
                )
            )
        )
        for request_id in request_ids:
            await session.exec(
                delete(CollectedData).where(col(CollectedData.request_id) == request_id)
            )
            await collected_files.drop_for_request(session, request_id)
            await audit.append(
                session,
                at=rt.clock.now(),
                actor=SYSTEM.actor,
                action="data.purged",
                request_id=request_id,
                detail={"after_days": rt.settings.purge_after_days},
            )
            purged += 1
    # The development outbox holds codes and letters with names: it goes with the data.
    await asyncio.to_thread(rt.mailer.purge_outbox, older_than=cutoff)
    return purged
