"""Deadline alerts: fire ``request.due_soon`` and ``request.overdue`` once per alert point.

The claim is a row in ``deadline_alerts`` (primary key request × alert), inserted in the same
transaction as the webhook event: with several replicas sweeping, each alert fires once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import DeadlineAlert, DsrRequest
from app.domain import deadlines
from app.domain.requests import TERMINAL
from app.runtime import Runtime
from app.security import SYSTEM
from app.services import audit, webhooks


def alerts_due(request: DsrRequest, now: datetime, days_before: list[int]) -> list[str]:
    """Alert points reached now, most urgent first (the rule is ``deadlines.alert_points``)."""
    target = request.extended_target_date or request.target_due_date
    return deadlines.alert_points(now, request.effective_due_at, target, days_before)


async def _claim(session: AsyncSession, request_id: str, alert: str, now: datetime) -> bool:
    """Insert the alert row in a savepoint; False when another sweep already fired it."""
    try:
        async with session.begin_nested():
            session.add(DeadlineAlert(request_id=request_id, alert=alert, fired_at=now))
            await session.flush()
    except IntegrityError:
        return False
    return True


async def fire_due_alerts(rt: Runtime) -> int:
    """One sweep; returns the number of alerts fired."""
    now = rt.clock.now()
    # The legal date can lie up to five days after the target (Easter): look a little further.
    horizon = now + timedelta(days=max(rt.settings.alert_days_before, default=0) + 7)
    terminal = [s.value for s in TERMINAL]
    fired = 0
    async with rt.db.session() as session:
        candidates = await session.exec(
            select(DsrRequest).where(
                col(DsrRequest.status).not_in(terminal),
                col(DsrRequest.effective_due_at) <= horizon,
            )
        )
        for request in list(candidates):
            points = alerts_due(request, now, rt.settings.alert_days_before)
            if not points:
                continue
            already = set(
                await session.exec(
                    select(DeadlineAlert.alert).where(DeadlineAlert.request_id == request.id)
                )
            )
            if points[0] in already:
                continue
            # Only the most urgent point is announced; the ones it overtakes are marked done.
            if not await _claim(session, request.id, points[0], now):
                continue
            for skipped in points[1:]:
                if skipped not in already:
                    await _claim(session, request.id, skipped, now)
            await _announce(rt, session, request, points[0], now)
            fired += 1
    return fired


async def _announce(
    rt: Runtime, session: AsyncSession, request: DsrRequest, alert: str, now: datetime
) -> None:
    event = "request.overdue" if alert == "overdue" else "request.due_soon"
    data = {
        "request_id": request.id,
        "kind": request.kind,
        "alert": alert,
        "due_at": request.effective_due_at.isoformat().replace("+00:00", "Z"),
    }
    await webhooks.emit(rt, session, event, data)
    await audit.append(
        session, at=now, actor=SYSTEM.actor, action=f"deadline.{alert}", request_id=request.id
    )
