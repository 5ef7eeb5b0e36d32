"""Periodic jobs (APScheduler): webhook delivery, deadline alerts, housekeeping.

APScheduler only decides *when*; every job claims its work in the database, so running the
scheduler on several replicas never fires an alert or sends a delivery twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from app.runtime import Runtime
from app.services import (
    deadline_alerts,
    flows,
    hold_recheck,
    letter_outbox,
    recipient_delivery,
    sweeps,
    webhook_delivery,
)

log = structlog.get_logger(__name__)


def _guarded(
    name: str, job: Callable[[Runtime], Awaitable[int]], rt: Runtime
) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            done = await job(rt)
        except Exception as exc:  # noqa: BLE001 - a failed sweep is logged and retried next tick
            log.error("scheduled_job_failed", job=name, error_type=type(exc).__name__)
            return
        if done:
            log.info("scheduled_job_done", job=name, count=done)

    return run


def build_scheduler(rt: Runtime) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    every = rt.settings.scheduler_interval_seconds
    jobs: list[tuple[str, Callable[[Runtime], Awaitable[int]], float]] = [
        ("webhook_delivery", webhook_delivery.deliver_due, 2),
        ("letters", letter_outbox.deliver_due, 5),
        ("recipient_notices", recipient_delivery.deliver_due, 5),
        ("deadline_alerts", deadline_alerts.fire_due_alerts, every),
        ("close_unverified", sweeps.close_unverified, 15 * every),
        ("purge_collected", sweeps.purge_collected, 15 * every),
        ("expire_holds", flows.expire_holds, 15 * every),
        ("recheck_holds", hold_recheck.recheck_conditions, 15 * every),
    ]
    for name, job, seconds in jobs:
        scheduler.add_job(
            _guarded(name, job, rt),
            "interval",
            seconds=seconds,
            id=name,
            max_instances=1,
            coalesce=True,
        )
    return scheduler
