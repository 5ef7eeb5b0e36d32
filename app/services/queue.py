"""The staff queue: open requests by legal deadline, filtered, searched and paged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import DsrRequest, Task
from app.db.models.tasks import TaskStatus
from app.domain.queue import WAITING_FOR_STAFF, Urgency, urgency
from app.domain.requests import TERMINAL, Channel, RequestKind, RequestStatus
from app.runtime import Runtime
from app.schemas.requests import RequestSummary
from app.services import request_views

# A task in these states waits for staff: close it by hand, retry it, or go on without it.
TASKS_FOR_STAFF = (
    TaskStatus.manual.value,
    TaskStatus.failed.value,
    TaskStatus.needs_stronger_identity.value,
)


@dataclass(frozen=True)
class QueueFilter:
    """Without a status, the open requests; ``q`` is an e-mail or a national id."""

    status: RequestStatus | None = None
    kind: RequestKind | None = None
    channel: Channel | None = None
    needs_action: bool = False
    q: str | None = None


@dataclass(frozen=True)
class QueueItem:
    summary: RequestSummary
    urgency: Urgency
    needs_action: bool


@dataclass(frozen=True)
class QueuePage:
    items: list[QueueItem]
    total: int
    page: int
    pages: int


def _tasks_waiting() -> Any:
    return exists().where(
        col(Task.request_id) == col(DsrRequest.id), col(Task.status).in_(TASKS_FOR_STAFF)
    )


def _needs_action() -> Any:
    waiting = [s.value for s in WAITING_FOR_STAFF]
    open_states = [s.value for s in RequestStatus if s not in TERMINAL]
    return col(DsrRequest.status).in_(waiting) | (
        col(DsrRequest.status).in_(open_states) & _tasks_waiting()
    )


def _where(rt: Runtime, flt: QueueFilter) -> list[Any]:
    conditions: list[Any]
    if flt.status is not None:
        conditions = [DsrRequest.status == flt.status.value]
    else:
        conditions = [
            col(DsrRequest.status).in_([s.value for s in RequestStatus if s not in TERMINAL])
        ]
    if flt.kind is not None:
        conditions.append(DsrRequest.kind == flt.kind.value)
    if flt.channel is not None:
        conditions.append(DsrRequest.channel == flt.channel.value)
    if flt.needs_action:
        conditions.append(_needs_action())
    if flt.q:
        kind, digest = request_views.identifier_hash(rt, flt.q)
        column = DsrRequest.email_hash if kind == "email" else DsrRequest.national_id_hash
        conditions.append(column == digest)
    return conditions


async def page(
    rt: Runtime, session: AsyncSession, flt: QueueFilter, *, number: int, size: int
) -> QueuePage:
    """Page ``number`` (from 1), the nearest legal deadline first."""
    conditions = _where(rt, flt)
    total = (
        await session.exec(select(func.count()).select_from(DsrRequest).where(*conditions))
    ).one()
    pages = max(1, -(-int(total) // size))
    number = min(max(1, number), pages)
    query = (
        select(DsrRequest, _needs_action())
        .where(*conditions)
        .order_by(col(DsrRequest.effective_due_at), col(DsrRequest.id))
        .offset((number - 1) * size)
        .limit(size)
    )
    now = rt.clock.now()
    soon = max(rt.settings.alert_days_before, default=7)
    items = []
    for request, waiting in await session.exec(query):
        view = request_views.summary(request, now)
        open_ = view.status not in TERMINAL
        items.append(
            QueueItem(
                summary=view,
                urgency=urgency(open_, view.effective_due_at, now, soon_days=soon),
                needs_action=bool(waiting),
            )
        )
    return QueuePage(items=items, total=int(total), page=number, pages=pages)
