"""What the console's overview pages read: connector health with recent failures, active
holds by end date, webhook subscriptions with their latest deliveries, and the facts the
monthly summary counts. Reads only; no personal data leaves here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.connectors.status import ConnectorsView, describe
from app.db.models import DsrRequest, LegalHold, Task, WebhookDelivery, WebhookSubscription
from app.db.models.tasks import TaskStatus
from app.domain.holds import HoldStatus
from app.domain.monthly_summary import Month, RequestFacts, Summary, summarise
from app.runtime import Runtime

FAILURE_DAYS = 30
CHECK_TIMEOUT = 5.0
DELIVERIES_SHOWN = 10


@dataclass(frozen=True)
class Failures:
    """A connector's failed tasks in the last ``FAILURE_DAYS`` days."""

    count: int
    last_at: datetime | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class ConnectorHealth:
    view: ConnectorsView
    checked_at: datetime
    failures: dict[str, Failures]


async def connectors(rt: Runtime, session: AsyncSession) -> ConnectorHealth:
    """What ``GET /v1/connectors`` serves, checked now, with each connector's recent failed
    tasks (their errors never carry personal data)."""
    checked_at = rt.clock.now()
    view = await describe(rt.connectors, health=True, timeout=CHECK_TIMEOUT)
    since = checked_at - timedelta(days=FAILURE_DAYS)
    failed = (col(Task.status) == TaskStatus.failed) & (col(Task.updated_at) >= since)
    counts = await session.exec(
        select(Task.connector, func.count()).where(failed).group_by(col(Task.connector))
    )
    latest = await session.exec(select(Task).where(failed).order_by(col(Task.updated_at).desc()))
    last: dict[str, Task] = {}
    for task in latest:
        last.setdefault(task.connector, task)
    failures = {
        name: Failures(count, last[name].updated_at, last[name].last_error)
        for name, count in counts
    }
    return ConnectorHealth(view=view, checked_at=checked_at, failures=failures)


async def active_holds(session: AsyncSession) -> list[LegalHold]:
    """Active holds, the soonest end first; holds without an end date last."""
    rows = await session.exec(
        select(LegalHold)
        .where(LegalHold.status == HoldStatus.active)
        .order_by(col(LegalHold.until).is_(None), col(LegalHold.until), col(LegalHold.id))
    )
    return list(rows)


def ends_soon(until: date | None, today: date, *, days: int = 30) -> bool:
    return until is not None and until <= today + timedelta(days=days)


@dataclass(frozen=True)
class Subscription:
    subscription: WebhookSubscription
    counts: dict[str, int] = field(default_factory=dict)  # delivery status -> how many
    latest: list[WebhookDelivery] = field(default_factory=list)


async def webhooks(session: AsyncSession, *, shown: int = DELIVERIES_SHOWN) -> list[Subscription]:
    """Every subscription with its deliveries counted by status and the latest few."""
    subscriptions = list(
        await session.exec(select(WebhookSubscription).order_by(col(WebhookSubscription.id)))
    )
    counted = await session.exec(
        select(WebhookDelivery.webhook_id, WebhookDelivery.status, func.count()).group_by(
            col(WebhookDelivery.webhook_id), col(WebhookDelivery.status)
        )
    )
    counts: dict[str, dict[str, int]] = {}
    for webhook_id, status, count in counted:
        counts.setdefault(webhook_id, {})[status] = count
    result = []
    for subscription in subscriptions:
        latest = await session.exec(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == subscription.id)
            .order_by(col(WebhookDelivery.id).desc())
            .limit(shown)
        )
        result.append(Subscription(subscription, counts.get(subscription.id, {}), list(latest)))
    return result


async def monthly_summary(session: AsyncSession, month: Month, *, count: int = 12) -> Summary:
    """The summary of ``month`` and the ``count`` months up to it, from every request with an
    event (receipt, extension, end) in those months."""
    start = month.shifted(1 - count).starts_at()
    connection = await session.connection()
    rows = await connection.execute(
        sa_select(
            col(DsrRequest.kind),
            col(DsrRequest.status),
            col(DsrRequest.received_at),
            col(DsrRequest.effective_due_at),
            col(DsrRequest.completed_at),
            col(DsrRequest.closed_at),
            col(DsrRequest.extended_at),
        ).where(
            or_(
                col(DsrRequest.received_at) >= start,
                col(DsrRequest.closed_at) >= start,
                col(DsrRequest.extended_at) >= start,
            )
        )
    )
    facts = [
        RequestFacts(
            kind=kind,
            status=status,
            received_at=received_at,
            due_at=due_at,
            completed_at=completed_at,
            closed_at=closed_at,
            extended_at=extended_at,
        )
        for kind, status, received_at, due_at, completed_at, closed_at, extended_at in rows
    ]
    return summarise(facts, month, count=count)
