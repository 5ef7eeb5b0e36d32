"""Deadline alerts: fire ``request.due_soon`` and ``request.overdue`` once per alert point.

The claim is a row in ``deadline_alerts`` (primary key request × alert), inserted in the same
transaction as the webhook event: with several replicas sweeping, each alert fires once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import DeadlineAlert, DsrRequest
from app.domain import deadlines
from app.domain.requests import TERMINAL
from app.runtime import Runtime
from app.security import SYSTEM
from app.services import audit, webhooks

BATCH = 500  # requests per tick at most: a backlog (after an upgrade) is spread over ticks
_TERMINAL = {s.value for s in TERMINAL}


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


async def fire_due_alerts(rt: Runtime, *, limit: int = BATCH) -> int:
    """One sweep over the requests whose next alert point may have come (indexed on
    ``next_alert_at``: the cost follows the number due, not the number open); returns the
    number of alerts fired. More than ``limit`` due are left for the next tick."""
    now = rt.clock.now()
    days_before = rt.settings.alert_days_before
    fired = 0
    async with rt.db.session() as session:
        due = list(
            await session.exec(
                select(DsrRequest)
                .where(col(DsrRequest.next_alert_at) <= now)
                .order_by(col(DsrRequest.next_alert_at))
                .limit(limit)
                .with_for_update(skip_locked=True)  # replicas sweep different requests
            )
        )
        if not due:
            return 0
        done: dict[str, set[str]] = {r.id: set() for r in due}
        rows = await session.exec(
            select(DeadlineAlert.request_id, DeadlineAlert.alert).where(
                col(DeadlineAlert.request_id).in_(list(done))
            )
        )
        for request_id, alert in rows:
            done[request_id].add(alert)
        for request in due:
            already = done[request.id]
            if request.status in _TERMINAL:
                request.next_alert_at = None
                continue
            points = alerts_due(request, now, days_before)
            if (
                points
                and points[0] not in already
                and await _claim(session, request.id, points[0], now)
            ):
                # Only the most urgent point is announced; the ones it overtakes are marked done.
                for skipped in points[1:]:
                    if skipped not in already:
                        await _claim(session, request.id, skipped, now)
                await _announce(rt, session, request, points[0], now)
                fired += 1
                already.update(points)
            target = request.extended_target_date or request.target_due_date
            request.next_alert_at = deadlines.next_alert_at(
                request.effective_due_at, target, days_before, already
            )
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
