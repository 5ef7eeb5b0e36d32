"""Deadline alerts: fire ``request.due_soon`` and ``request.overdue`` once per alert point.

The claim is a row in ``deadline_alerts`` (primary key request × alert), inserted in the same
transaction as the webhook event: with several replicas sweeping, each alert fires once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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


async def _claim_all(
    session: AsyncSession, wanted: list[tuple[str, str]], now: datetime
) -> set[tuple[str, str]]:
    """Insert the alert rows in one statement; those another sweep fired already are left
    out of the answer (``ON CONFLICT DO NOTHING … RETURNING``: what this sweep claimed)."""
    if not wanted:
        return set()
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(DeadlineAlert)
        .values([{"request_id": r, "alert": a, "fired_at": now} for r, a in wanted])
        .on_conflict_do_nothing()
        .returning(col(DeadlineAlert.request_id), col(DeadlineAlert.alert))
    )
    return {(r, a) for r, a in (await session.exec(statement)).all()}


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
        announce: list[tuple[DsrRequest, str]] = []
        wanted: list[tuple[str, str]] = []
        for request in due:
            if request.status in _TERMINAL:
                continue
            points = alerts_due(request, now, days_before)
            already = done[request.id]
            if points and points[0] not in already:
                # Only the most urgent point is announced; the ones it overtakes are marked done.
                announce.append((request, points[0]))
                wanted += [(request.id, p) for p in points if p not in already]
        claimed = await _claim_all(session, wanted, now)
        for request, alert in announce:
            if (request.id, alert) in claimed:
                await _announce(rt, session, request, alert, now)
                fired += 1
        for request_id, alert in claimed:
            done[request_id].add(alert)
        for request in due:
            target = request.extended_target_date or request.target_due_date
            request.next_alert_at = (
                None
                if request.status in _TERMINAL
                else deadlines.next_alert_at(
                    request.effective_due_at, target, days_before, done[request.id]
                )
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
