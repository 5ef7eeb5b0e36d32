"""Running workers: inside ``innsyn serve`` (the embedded default) or as ``innsyn worker``."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import structlog

from app.jobs.runner import Worker
from app.runtime import Runtime
from app.settings import Settings

log = structlog.get_logger(__name__)


class BackgroundWorker:
    """A worker running as a task of the server's event loop, stopped with the app."""

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self._task: asyncio.Task[None] | None = None

    def start(self) -> BackgroundWorker:
        self._task = asyncio.create_task(self.worker.run(), name="innsyn worker")
        log.info("worker_started", worker=self.worker.name, mode="in-process")
        return self

    async def stop(self) -> None:
        self.worker.stop()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        log.info("worker_stopped", worker=self.worker.name)


async def run_worker(
    settings: Settings,
    *,
    concurrency: int | None = None,
    name: str | None = None,
    metrics_port: int | None = None,
    grace_seconds: float = 25.0,
) -> None:
    """The ``innsyn worker`` process: claim and run tasks until SIGTERM or SIGINT, then stop
    claiming, finish or give back what it holds, and return."""
    rt = Runtime.build(settings)
    worker = Worker(rt, concurrency=concurrency, name=name, grace_seconds=grace_seconds)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, worker.stop)
    if metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, addr=settings.host)
    log.info(
        "worker_started",
        worker=worker.name,
        connectors=len(rt.connectors.instances),
        concurrency=worker.concurrency,
    )
    try:
        await worker.run()
    finally:
        log.info("worker_stopped", worker=worker.name)
        await rt.connectors.aclose()
        await rt.db.dispose()
