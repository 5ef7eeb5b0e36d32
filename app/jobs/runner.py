"""The worker: claims due tasks, runs them concurrently, keeps their leases alive, writes back.

One ``Worker`` per process (``innsyn serve`` starts one in-process; ``innsyn worker`` runs one
alone). It runs up to ``concurrency`` attempts at once, at most ``instance.concurrency`` per
connector, each under the connector's timeout. Results are written back by one writer that
batches whatever finished meanwhile into one transaction. A worker that dies simply stops
heartbeating: its leases expire and other workers take the tasks over.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any

import structlog

from app.connectors.protocol import FileStream
from app.connectors.registry import ConnectorInstance
from app.jobs import execute, metrics
from app.jobs.dbretry import retrying
from app.jobs.policy import RetryPolicy
from app.jobs.queue import Claim, claim, heartbeat, release
from app.jobs.subjects import SubjectCache
from app.jobs.writeback import AttemptReport, record_attempts
from app.runtime import Runtime
from app.services import collected_files
from app.services import tasks as task_service

log = structlog.get_logger(__name__)
MAX_BATCH = 200
QUIET = 0.003  # seconds: results arriving closer together than this are written together
LINGER = 0.04  # seconds: the longest a result waits for others to join its write


def worker_name() -> str:
    """Unique per process and start, readable in ``lease_owner``: host, pid, random suffix."""
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class _Pending:
    report: AttemptReport
    done: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class Worker:
    """Claims and runs tasks until stopped. ``run_until_idle`` is the deterministic variant
    for tests and one-shot runs: it returns when nothing is due and nothing is running."""

    def __init__(
        self,
        rt: Runtime,
        *,
        name: str | None = None,
        concurrency: int | None = None,
        lease_seconds: float | None = None,
        poll_seconds: float = 1.0,
        grace_seconds: float = 25.0,
        policy: RetryPolicy | None = None,
        linger: float = LINGER,
    ) -> None:
        self.rt = rt
        self.name = name or worker_name()
        self.concurrency = concurrency or rt.settings.worker_concurrency
        self.lease_seconds = float(lease_seconds or rt.settings.lease_seconds)
        self.poll_seconds = poll_seconds
        self.grace_seconds = grace_seconds
        self.policy = policy or RetryPolicy()
        self.linger = linger
        self._running: dict[str, asyncio.Task[None]] = {}
        self._claims: dict[str, Claim] = {}  # held and not yet written back
        self._calling: set[str] = set()  # connector call in progress (cancellable on lease loss)
        self._waiting: set[str] = set()  # claimed, not calling yet (waits for a slot)
        # Per held task: when its lease runs out by this process's clock (loop time), and the
        # watch that cuts its connector call off then, unless a heartbeat renews it first.
        self._lease_until: dict[str, float] = {}
        self._watches: dict[str, asyncio.Timeout] = {}
        self._per_connector: dict[str, int] = {}
        self._semaphores: dict[str, asyncio.Semaphore] = {}
        self._subjects = SubjectCache(rt)
        self._writes: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._changed = asyncio.Event()
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._next_maintenance = 0.0
        self._last_limit = 0
        self._more_due = True
        self._claimed_at = 0.0
        self._full: set[str] = set()  # connectors that had no free slot at the last claim
        self._backlog: set[str] = set()  # connectors that may have due tasks left unclaimed
        self._deferred: set[asyncio.Task[None]] = set()  # after-commit work of write-backs
        self._files_started: dict[str, int] = {}  # per task: files its attempt began to store

    # -- public ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop claiming; ``run`` then finishes (or releases) what it holds and returns."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def run(self) -> None:
        await self._loop(until_idle=False)

    async def run_until_idle(self) -> None:
        self._next_maintenance = 0.0
        self._more_due = True  # look at least once
        await self._loop(until_idle=True)

    # -- the loop --------------------------------------------------------------------------

    async def _loop(self, *, until_idle: bool) -> None:
        helpers = [asyncio.create_task(self._writer()), asyncio.create_task(self._heartbeats())]
        if not until_idle and not self.rt.db.is_sqlite:
            helpers.append(asyncio.create_task(self._listen()))
        try:
            while not self._stop.is_set():
                due = self._maybe_due(until_idle=until_idle)
                self.rt.task_wakeup.clear()
                self._wake.clear()
                self._changed.clear()
                await self._maintain()
                started = await self._claim_and_start() if due else 0
                # Look again at once only if the claim was full; otherwise wait for a
                # wake-up (new work committed here or NOTIFY from elsewhere), a finished
                # attempt, or the poll interval (retries and leases that come due by time).
                self._more_due = started > 0 and started == self._last_limit
                if due:
                    self._backlog = self._left_behind(started)
                if (
                    until_idle
                    and not self._running
                    and not self._more_due
                    and not (self._changed.is_set() or self._woken())
                ):
                    break
                if not self._more_due or len(self._running) >= self.concurrency:
                    await self._wait()
        finally:
            await self._drain()
            await self._writes.put(None)
            await asyncio.gather(*helpers[:1], return_exceptions=True)
            await asyncio.gather(*self._deferred, return_exceptions=True)
            for helper in helpers[1:]:
                helper.cancel()
            await asyncio.gather(*helpers[1:], return_exceptions=True)

    def _woken(self) -> bool:
        return self.rt.task_wakeup.is_set() or self._wake.is_set()

    def _maybe_due(self, *, until_idle: bool) -> bool:
        """Whether a claim can find anything: after a wake-up, a full claim, the poll
        interval, or (driven to idle) any finished attempt. Claiming after every finished
        attempt would cost a query per task while a big request is running."""
        if self._woken() or self._more_due or (until_idle and self._changed.is_set()):
            return True
        if self._changed.is_set() and self._backlog & set(self._capacity()):
            return True  # a slot freed for a connector whose due tasks were left waiting
        return time.monotonic() - self._claimed_at >= self.poll_seconds

    def _left_behind(self, started: int) -> set[str]:
        """Connectors that may still have due tasks after a claim: every one when the claim
        was full, else those that had no free slot. A finished attempt of one of them claims
        at once instead of leaving its queue to the poll interval."""
        if self._last_limit <= 0 or started == self._last_limit:
            return set(self.rt.connectors.instances)
        return set(self._full)

    async def _wait(self) -> None:
        waiters = [
            asyncio.create_task(e.wait())
            for e in (self._changed, self._wake, self._stop, self.rt.task_wakeup)
        ]
        try:
            await asyncio.wait(waiters, timeout=self.poll_seconds, return_when="FIRST_COMPLETED")
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def _maintain(self) -> None:
        """Now and then: fail tasks abandoned on their last attempt, cancel tasks of closed
        requests. Cheap indexed queries; every worker may run them (they lock what they fix)."""
        if time.monotonic() < self._next_maintenance:
            return
        self._next_maintenance = time.monotonic() + max(1.0, self.lease_seconds / 2)
        try:
            async with self.rt.db.session() as session:
                await task_service.fail_abandoned(self.rt, session)
                await task_service.cancel_for_closed_requests(self.rt, session)
        except Exception:
            log.warning("task_maintenance_failed", worker=self.name, exc_info=True)

    def _capacity(self) -> dict[str, int]:
        """Free slots per connector this worker can run: it never claims what it cannot run."""
        free = {}
        for name, instance in self.rt.connectors.instances.items():
            room = max(1, instance.concurrency) - self._per_connector.get(name, 0)
            if room > 0:
                free[name] = room
        return free

    async def _claim_and_start(self) -> int:
        capacity = self._capacity()
        limit = min(self.concurrency - len(self._running), sum(capacity.values()))
        self._last_limit = limit
        self._full = set(self.rt.connectors.instances) - set(capacity)
        if limit <= 0:
            return 0
        self._claimed_at = time.monotonic()
        asked = asyncio.get_running_loop().time()  # the lease counts from before the claim
        async with self.rt.db.session() as session:
            claims = await claim(
                session,
                owner=self.name,
                now=self.rt.clock.now(),
                lease_seconds=self.lease_seconds,
                limit=limit,
                connectors=list(capacity),
                exclude=list(self._claims),
            )
            # Who the tasks are about, read in the same transaction (one round trip saved
            # before the first connector call).
            await self._subjects.preload(session, {c.request_id for c in claims})
        for held in claims:
            metrics.TASKS_CLAIMED.labels(held.connector, held.action.value).inc()
            self._claims[held.id] = held
            self._waiting.add(held.id)
            self._lease_until[held.id] = asked + self.lease_seconds
            self._per_connector[held.connector] = self._per_connector.get(held.connector, 0) + 1
            self._running[held.id] = asyncio.create_task(self._run(held), name=f"task {held.id}")
        return len(claims)

    # -- one attempt -----------------------------------------------------------------------

    async def _run(self, held: Claim) -> None:
        try:
            await self._attempt(held)
        except asyncio.CancelledError:
            pass
        except Exception:
            log.error("task_attempt_crashed", task_id=held.id, worker=self.name, exc_info=True)
        finally:
            self._running.pop(held.id, None)
            self._calling.discard(held.id)
            self._waiting.discard(held.id)
            self._lease_until.pop(held.id, None)
            self._watches.pop(held.id, None)
            self._files_started.pop(held.id, None)
            self._per_connector[held.connector] -= 1
            self._changed.set()

    async def _attempt(self, held: Claim) -> None:
        instance = self.rt.connectors.get(held.connector)
        assert instance is not None  # only claimed for configured connectors
        async with self._semaphore(instance), self._subjects.use(held.request_id) as loaded:
            subject, details = loaded
            subject = subject.model_copy(update={"attempt_key": held.attempt_key})
            self._waiting.discard(held.id)
            if held.id not in self._claims:
                return  # the lease was lost while waiting for a slot: never call out
            self._calling.add(held.id)
            metrics.TASKS_IN_FLIGHT.inc()
            started = time.perf_counter()
            try:
                async with asyncio.timeout_at(self._lease_until[held.id]) as watch:
                    self._watches[held.id] = watch
                    outcome = await execute.attempt(
                        instance,
                        held.action,
                        held.params,
                        subject,
                        details,
                        store_file=self._file_sink(held),
                    )
            except TimeoutError:
                # No heartbeat renewed the lease in time (paused, cut off from the database):
                # another worker may hold the task now, so this one stops calling out.
                self._abandon(held, "task_lease_expired")
                return
            finally:
                metrics.TASKS_IN_FLIGHT.dec()
                self._calling.discard(held.id)
                self._watches.pop(held.id, None)
        elapsed = time.perf_counter() - started
        report = AttemptReport(
            claim=held,
            owner=self.name,
            outcome=outcome,
            files_started=self._files_started.pop(held.id, 0),
        )
        pending = _Pending(report)
        await self._writes.put(pending)
        try:
            event = await asyncio.shield(pending.done)
        finally:
            if pending.done.done():
                self._claims.pop(held.id, None)  # written, or given up: the lease will expire
        _observe(held, event, elapsed, outcome)

    def _file_sink(self, held: Claim) -> execute.FileSink:
        """Files of a collect stream into the database as the connector yields them."""

        async def store(file: FileStream) -> dict[str, Any]:
            # Counted before it is stored: one that fails half-way is a leftover to remove.
            self._files_started[held.id] = self._files_started.get(held.id, 0) + 1
            stored = await collected_files.store_stream(
                self.rt,
                request_id=held.request_id,
                task_id=held.id,
                attempt=held.attempt,
                file=file,
            )
            return stored.ref()

        return store

    def _semaphore(self, instance: ConnectorInstance) -> asyncio.Semaphore:
        if instance.name not in self._semaphores:
            self._semaphores[instance.name] = asyncio.Semaphore(max(1, instance.concurrency))
        return self._semaphores[instance.name]

    # -- write-back, leases, wake-ups ------------------------------------------------------

    async def _writer(self) -> None:
        """Write back whatever finished meanwhile in one transaction (a request's 50 tasks
        finishing together cost a few transactions, not 50)."""
        while True:
            first = await self._writes.get()
            if first is None:
                return
            batch = await self._gather(first)
            await self._write(batch)

    async def _gather(self, first: _Pending) -> list[_Pending]:
        """The batch: what is queued, plus what arrives while results keep coming in (each
        within ``QUIET`` of the last, for at most ``LINGER``) as long as attempts are still
        running here: a request's tasks finishing together go out in one write."""
        batch = [first]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.linger
        while len(batch) < MAX_BATCH:
            if not self._writes.empty():
                item = self._writes.get_nowait()
            elif self._calling and (left := deadline - loop.time()) > 0:
                try:
                    item = await asyncio.wait_for(self._writes.get(), min(QUIET, left))
                except TimeoutError:
                    break
            else:
                break
            if item is None:
                self._writes.put_nowait(None)
                break
            batch.append(item)
        return batch

    async def _write(self, batch: list[_Pending]) -> None:
        try:
            events = await retrying(self._record, [p.report for p in batch])
        except Exception as exc:
            log.error("task_write_back_failed", worker=self.name, tasks=len(batch), exc_info=True)
            for item in batch:
                item.done.set_exception(exc)
            return
        for item in batch:
            item.done.set_result(events.get(item.report.claim.id, "lost"))

    async def _record(self, reports: list[AttemptReport]) -> dict[str, str]:
        async with self.rt.db.session(defer=self._after_commit) as session:
            return await record_attempts(self.rt, session, reports, policy=self.policy)

    def _after_commit(self, work: Coroutine[Any, Any, None]) -> None:
        """Letters a write-back queued leave in a task of their own: the writer goes on with
        the next batch (they are in the outbox already; the letters job sends what is left)."""
        task = asyncio.create_task(work)
        self._deferred.add(task)
        task.add_done_callback(self._deferred.discard)

    async def _heartbeats(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            ids = list(self._claims)
            if not ids:
                continue
            asked = loop.time()  # a renewed lease counts from before the renewal was sent
            try:
                async with self.rt.db.session() as session:
                    held = await heartbeat(
                        session,
                        owner=self.name,
                        ids=ids,
                        now=self.rt.clock.now(),
                        lease_seconds=self.lease_seconds,
                    )
            except Exception:
                log.warning("task_heartbeat_failed", worker=self.name, exc_info=True)
                continue
            for task_id in held:
                if task_id in self._lease_until:
                    self._lease_until[task_id] = asked + self.lease_seconds
                    if (watch := self._watches.get(task_id)) is not None:
                        watch.reschedule(self._lease_until[task_id])
            for task_id in set(ids) - held:
                self._lost(task_id)

    def _lost(self, task_id: str) -> None:
        """Another worker holds this task now: stop calling the connector for it, or never
        start (a finished call's result is refused by the write-back's fence instead)."""
        held = self._claims.get(task_id)
        if held is None or not (task_id in self._calling or task_id in self._waiting):
            return
        self._abandon(held, "task_lease_lost")
        running = self._running.get(task_id)
        if running is not None:
            running.cancel()

    def _abandon(self, held: Claim, event: str) -> None:
        """Give up a task whose lease is gone: no result is written, no call is made."""
        self._claims.pop(held.id, None)
        metrics.LEASES_LOST.labels(held.connector, held.action.value).inc()
        log.warning(event, task_id=held.id, worker=self.name)

    async def _listen(self) -> None:
        """PostgreSQL LISTEN: another process added work; wake up now, not at the next poll."""
        from app.jobs.notify import listen

        await listen(self.rt, self._wake, self._stop)

    async def _drain(self) -> None:
        """Graceful stop: let running attempts finish within the grace period, then cancel
        the rest and give their tasks back (they are due again at once, for another worker)."""
        if self._running:
            await asyncio.wait(list(self._running.values()), timeout=self.grace_seconds)
        leftovers = list(self._running.values())
        cut_off = set(self._calling)  # their calls are cancelled mid-flight
        for running in leftovers:
            running.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)
        unwritten = list(self._claims.values())
        self._claims.clear()
        if unwritten:
            await _quietly(self._release(unwritten, cut_off))

    async def _release(self, claims: list[Claim], cut_off: set[str]) -> None:
        async with self.rt.db.session() as session:
            count = await release(
                session, owner=self.name, claims=claims, now=self.rt.clock.now(), cut_off=cut_off
            )
        log.info("tasks_released", worker=self.name, tasks=count)


def _observe(held: Claim, event: str, elapsed: float, outcome: execute.Outcome) -> None:
    labels = (held.connector, held.action.value)
    metrics.TASK_DURATION.labels(*labels, event).observe(elapsed)
    kind = outcome.failure.kind if isinstance(outcome, execute.Failed) else ""
    if event == "succeeded":
        metrics.TASKS_SUCCEEDED.labels(*labels).inc()
    elif event == "retried":
        metrics.TASKS_RETRIED.labels(*labels, kind).inc()
    elif event == "failed":
        metrics.TASKS_FAILED.labels(*labels, kind).inc()
    elif event == "manual":
        metrics.TASKS_MANUAL.labels(*labels).inc()


async def _quietly(work: Coroutine[Any, Any, None]) -> None:
    with contextlib.suppress(Exception):
        await work
