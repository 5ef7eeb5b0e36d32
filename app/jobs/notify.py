"""PostgreSQL LISTEN on a dedicated connection: planners and retries ``NOTIFY`` when work is
due, so workers in other processes start within milliseconds instead of at their next poll.
Polling stays the safety net: a lost notification only costs one poll interval."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog

from app.jobs.queue import NOTIFY_CHANNEL
from app.runtime import Runtime

log = structlog.get_logger(__name__)


async def listen(rt: Runtime, wake: asyncio.Event, stop: asyncio.Event) -> None:
    """Set ``wake`` on every notification until ``stop``; reconnects after a lost connection."""

    def on_notify(*_args: Any) -> None:
        wake.set()

    while not stop.is_set():
        try:
            async with rt.db.engine.connect() as conn:
                raw = await conn.get_raw_connection()
                driver = raw.driver_connection
                assert driver is not None
                await driver.add_listener(NOTIFY_CHANNEL, on_notify)
                try:
                    while not stop.is_set() and not driver.is_closed():
                        await asyncio.sleep(1.0)
                finally:
                    if not driver.is_closed():
                        await driver.remove_listener(NOTIFY_CHANNEL, on_notify)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("task_listen_failed", exc_info=True)
            wake.set()
            await asyncio.sleep(5.0)
