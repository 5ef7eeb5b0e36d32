"""Real ``innsyn worker`` processes on one PostgreSQL: a SIGKILLed worker's task is taken over
and finished, and two or four workers never run the same task at once.

SQLite runs workers in one process (its writers are serialised), so these run on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import BinaryIO

import asyncpg
import pytest

from app.services import audit
from tests.conftest import AUDIT_KEY, DATA_KEY, SIGNING_KEY
from tests.jobs import crashy_connector
from tests.jobs.conftest import file_verified, load

pytestmark = pytest.mark.slow
ROOT = Path(__file__).parents[2]


@pytest.fixture
def pg_url(backend: str, database_url: str) -> str:
    if backend != "postgresql":
        pytest.skip("worker processes share a PostgreSQL database; SQLite is single-process")
    return database_url


@pytest.fixture
async def fx(pg_url: str, runtime) -> AsyncIterator[asyncpg.Connection]:
    """The side-effect tables, on the test database (``runtime`` empties the rest after)."""
    conn = await asyncpg.connect(libpq(pg_url))
    await conn.execute(crashy_connector.DROP)
    await conn.execute(crashy_connector.SCHEMA)
    try:
        yield conn
    finally:
        await conn.execute(crashy_connector.DROP)
        await conn.close()


def libpq(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


class Workers:
    """``innsyn worker`` processes started with the crashy connectors."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: list[subprocess.Popen[bytes]] = []
        self.files: list[BinaryIO] = []

    def start(self, count: int, *args: str, **extra: str) -> list[subprocess.Popen[bytes]]:
        started = []
        for _ in range(count):
            log = (self.logs / f"worker-{len(self.procs)}.log").open("wb")
            self.files.append(log)
            proc = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "worker", *args],
                env=self.env | extra,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            self.procs.append(proc)
            started.append(proc)
        return started

    def log(self, proc: subprocess.Popen[bytes]) -> str:
        return (self.logs / f"worker-{self.procs.index(proc)}.log").read_text()

    async def wait_started(self) -> None:
        async with asyncio.timeout(60):
            while not all("worker_started" in self.log(p) for p in self.procs):
                assert all(p.poll() is None for p in self.procs), self.dump()
                await asyncio.sleep(0.05)

    async def terminate(self, proc: subprocess.Popen[bytes]) -> int:
        proc.send_signal(signal.SIGTERM)
        async with asyncio.timeout(60):
            while proc.poll() is None:
                await asyncio.sleep(0.05)
        return proc.returncode

    def dump(self) -> str:
        return "\n".join(self.log(p)[-3000:] for p in self.procs)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
        for log in self.files:
            log.close()


@pytest.fixture
def workers(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workers]:
    settings = {
        "CRASHY_DSN": libpq(pg_url),
        "CRASHY_SYSTEMS": "4",
        "CRASHY_DELAY": "0.02",
    }
    for key, value in settings.items():
        monkeypatch.setenv(key, value)
    env = {k: v for k, v in os.environ.items() if not k.startswith("INNSYN_")} | settings
    env |= {
        "INNSYN_ENV": "test",
        "INNSYN_DATABASE_URL": pg_url,
        "INNSYN_DATA_KEY": DATA_KEY,
        "INNSYN_AUDIT_KEY": AUDIT_KEY,
        "INNSYN_SIGNING_KEY": SIGNING_KEY,
        "INNSYN_VAR_DIR": str(tmp_path / "var"),
        "INNSYN_CONNECTOR_FACTORY": "tests.jobs.crashy_connector:registry",
        "PYTHONPATH": str(ROOT),
    }
    pool = Workers(env, tmp_path)
    try:
        yield pool
    finally:
        pool.stop_all()


async def all_done(conn: asyncpg.Connection, request_ids: list[str], *, guard: float) -> None:
    async with asyncio.timeout(guard):
        while True:
            statuses = await conn.fetch(
                "SELECT status FROM requests WHERE id = ANY($1::text[])", request_ids
            )
            if {r["status"] for r in statuses} == {"completed"}:
                return
            await asyncio.sleep(0.1)


async def test_a_killed_workers_task_is_taken_over_and_finished(runtime, fx, workers):
    runtime.connectors = crashy_connector.registry()
    emails = [f"person{i}@example.no" for i in range(6)]
    for email in emails:
        for system in runtime.connectors.instances:
            await fx.execute("INSERT INTO fx_data VALUES ($1, $2, 'contact', 'x')", email, system)
    access = [await file_verified(runtime, email=e) for e in emails[:3]]
    erasure = [await file_verified(runtime, "erasure", email=e) for e in emails[3:]]
    blocked = (erasure[0], "sys0", "erase")

    procs = workers.start(2, INNSYN_LEASE_SECONDS="2", CRASHY_BLOCK=":".join(blocked))
    async with asyncio.timeout(60):  # until one worker hangs in the middle of that task
        while (
            pid := await fx.fetchval(
                "SELECT pid FROM fx_calls WHERE system=$2 AND request_id=$1 AND action=$3", *blocked
            )
        ) is None:
            await asyncio.sleep(0.05)
    [victim] = [p for p in procs if p.pid == pid]
    [survivor] = [p for p in procs if p.pid != pid]
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)

    await all_done(fx, access + erasure, guard=90)
    assert await workers.terminate(survivor) == 0, workers.dump()

    # The task the killed worker held was run again by the survivor, once, to completion.
    calls = await fx.fetch(
        "SELECT pid, finished_at, deleted FROM fx_calls"
        " WHERE request_id=$1 AND system=$2 AND action=$3 ORDER BY id",
        *blocked,
    )
    assert [c["pid"] for c in calls] == [victim.pid, survivor.pid]
    assert calls[0]["finished_at"] is None and calls[1]["deleted"] == 1
    _, tasks = await load(runtime, erasure[0])
    assert (tasks["sys0"].status, tasks["sys0"].attempts) == ("succeeded", 2)

    # Erase (idempotent): each person's data is gone in every system, deleted once in all.
    assert await fx.fetchval("SELECT count(*) FROM fx_data WHERE email = ANY($1)", emails[3:]) == 0
    deleted = await fx.fetch(
        "SELECT request_id, system, sum(deleted) AS rows, count(finished_at) AS finished"
        " FROM fx_calls WHERE action='erase' GROUP BY request_id, system"
    )
    assert len(deleted) == 12 and {r["rows"] for r in deleted} == {1}
    assert all(r["finished"] >= 1 for r in deleted)  # at least once
    # Innsyn's own effects happen exactly once per task: one sealed blob per collect task,
    # one success in the audit trail, and an unbroken chain.
    assert await fx.fetchval("SELECT count(*) FROM collected_data") == 12
    async with runtime.db.session() as session:
        for request_id in access + erasure:
            events = await audit.events_for(session, stream=request_id)
            succeeded = [
                t for e in events if e.action == "task.succeeded" for t in e.detail["tasks"]
            ]
            assert sorted(t["connector"] for t in succeeded) == ["sys0", "sys1", "sys2", "sys3"]
            assert audit.verify(audit.key_of(session), events) == []
    collect_calls = await fx.fetch(
        "SELECT count(finished_at) AS n FROM fx_calls WHERE action='collect'"
        " GROUP BY request_id, system"
    )
    assert len(collect_calls) == 12 and all(r["n"] >= 1 for r in collect_calls)
    assert await fx.fetchval("SELECT count(*) FROM fx_violations") == 0


@pytest.mark.parametrize("count", [2, 4])
async def test_workers_never_run_the_same_task_at_the_same_time(runtime, fx, workers, count):
    runtime.connectors = crashy_connector.registry()
    procs = workers.start(
        count, INNSYN_LEASE_SECONDS="10", INNSYN_WORKER_CONCURRENCY="4", CRASHY_CONCURRENCY="2"
    )
    await workers.wait_started()
    request_ids = [await file_verified(runtime, email=f"p{i}@example.no") for i in range(40)]

    await all_done(fx, request_ids, guard=120)
    for proc in procs:
        assert await workers.terminate(proc) == 0, workers.dump()

    assert await fx.fetchval("SELECT count(*) FROM fx_violations") == 0
    runs = await fx.fetch(
        "SELECT request_id, system, count(*) AS n, count(finished_at) AS finished"
        " FROM fx_calls GROUP BY request_id, system"
    )
    assert len(runs) == 160
    assert {(r["n"], r["finished"]) for r in runs} == {(1, 1)}
    overlapping = await fx.fetchval(
        "SELECT count(*) FROM fx_calls a JOIN fx_calls b ON a.request_id = b.request_id"
        " AND a.system = b.system AND a.action = b.action AND a.id < b.id"
        " AND a.started_at < b.finished_at AND b.started_at < a.finished_at"
    )
    assert overlapping == 0
    pids = {r["pid"] for r in await fx.fetch("SELECT DISTINCT pid FROM fx_calls")}
    assert pids == {p.pid for p in procs}  # every worker took a share


async def test_sigterm_gives_back_a_task_that_does_not_finish_in_time(runtime, fx, workers):
    runtime.connectors = crashy_connector.registry()
    request_id = await file_verified(runtime, email="kari@example.no")
    blocked = (request_id, "sys0", "collect")
    [proc] = workers.start(1, "--grace-seconds", "0.5", CRASHY_BLOCK=":".join(blocked))
    await all_started(fx, blocked)

    assert await workers.terminate(proc) == 0, workers.dump()

    _, tasks = await load(runtime, request_id)
    held = tasks["sys0"]
    assert (held.status, held.attempts, held.lease_owner) == ("pending", 0, None)
    assert {t.status for n, t in tasks.items() if n != "sys0"} == {"succeeded"}
    [second] = workers.start(1)  # the task is due at once for the next worker
    await all_done(fx, [request_id], guard=60)
    assert await workers.terminate(second) == 0, workers.dump()


async def all_started(fx: asyncpg.Connection, blocked: tuple[str, str, str]) -> None:
    async with asyncio.timeout(60):
        while not await fx.fetchval(
            "SELECT count(*) FROM fx_calls WHERE request_id=$1 AND system=$2 AND action=$3",
            *blocked,
        ):
            await asyncio.sleep(0.05)


async def test_an_erasure_a_killed_worker_did_is_reported_erased(
    runtime, fx, workers, client, staff
):
    runtime.connectors = crashy_connector.registry()
    emails = [f"gone{i}@example.no" for i in range(4)]
    for email in emails:
        for system in runtime.connectors.instances:
            await fx.execute("INSERT INTO fx_data VALUES ($1, $2, 'contact', 'x')", email, system)
    erasure = [await file_verified(runtime, "erasure", email=e) for e in emails]
    acted = (erasure[0], "sys1", "erase")

    procs = workers.start(2, INNSYN_LEASE_SECONDS="2", CRASHY_AFTER=":".join(acted))
    async with asyncio.timeout(60):  # until one worker has erased and hangs before reporting
        while (
            pid := await fx.fetchval(
                "SELECT pid FROM fx_calls WHERE request_id=$1 AND system=$2 AND action=$3"
                " AND sent_at IS NOT NULL",
                *acted,
            )
        ) is None:
            await asyncio.sleep(0.05)
    [victim] = [p for p in procs if p.pid == pid]
    [survivor] = [p for p in procs if p.pid != pid]
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)

    await all_done(fx, erasure, guard=90)
    assert await workers.terminate(survivor) == 0, workers.dump()

    # The killed worker erased; the survivor's retry found nothing left.
    calls = await fx.fetch(
        "SELECT pid, deleted, sent_at FROM fx_calls"
        " WHERE request_id=$1 AND system=$2 AND action=$3 ORDER BY id",
        *acted,
    )
    assert [(c["pid"], c["deleted"]) for c in calls] == [(victim.pid, 1), (survivor.pid, 0)]
    assert await fx.fetchval("SELECT count(*) FROM fx_data WHERE email = ANY($1)", emails) == 0
    # The outcome says what happened: erased, by the interrupted attempt; never "not found".
    for request_id in erasure:
        view = (await client.get(f"/v1/requests/{request_id}", headers=staff["auditor"])).json()
        for name, entry in view["outcome"]["connectors"].items():
            outcomes = [c["outcome"] for c in entry["actions"]["erase"]["categories"]]
            assert outcomes == ["erased"], (request_id, name, outcomes)
    view = (await client.get(f"/v1/requests/{erasure[0]}", headers=staff["auditor"])).json()
    erase = view["outcome"]["connectors"]["sys1"]["actions"]["erase"]
    assert erase["interrupted_attempts"] == 1
    assert erase["categories"][0]["by_interrupted_attempt"] is True


async def test_a_worker_paused_past_its_lease_does_not_send_its_call_again(
    runtime, fx, workers, client, staff
):
    runtime.connectors = crashy_connector.registry()
    email = "paused@example.no"
    for system in runtime.connectors.instances:
        await fx.execute("INSERT INTO fx_data VALUES ($1, $2, 'contact', 'x')", email, system)
    request_id = await file_verified(runtime, "erasure", email=email)
    stalled = (request_id, "sys2", "erase")

    procs = workers.start(2, INNSYN_LEASE_SECONDS="2", CRASHY_STALL=":".join(stalled) + ":6")
    await all_started(fx, stalled)
    pid = await fx.fetchval(
        "SELECT pid FROM fx_calls WHERE request_id=$1 AND system=$2 AND action=$3", *stalled
    )
    [victim] = [p for p in procs if p.pid == pid]
    [survivor] = [p for p in procs if p.pid != pid]
    # The other systems' tasks are written back first: paused inside a transaction, the
    # victim would hold the request's row lock (a different story, not this test's).
    async with asyncio.timeout(30):
        while (
            await fx.fetchval(
                "SELECT count(*) FROM tasks WHERE request_id=$1 AND status='succeeded'", request_id
            )
            < len(runtime.connectors.instances) - 1
        ):
            await asyncio.sleep(0.05)
    victim.send_signal(signal.SIGSTOP)  # paused mid-call, before its delete
    try:
        await all_done(fx, [request_id], guard=90)  # the survivor took the task over
    finally:
        victim.send_signal(signal.SIGCONT)
    await asyncio.sleep(8)  # past the stalled call's own end: it would have sent by now

    calls = await fx.fetch(
        "SELECT pid, sent_at, deleted FROM fx_calls"
        " WHERE request_id=$1 AND system=$2 AND action=$3 ORDER BY id",
        *stalled,
    )
    assert [c["pid"] for c in calls] == [victim.pid, survivor.pid]
    assert calls[0]["sent_at"] is None, workers.dump()  # resumed, it never called out
    assert calls[1]["deleted"] == 1
    assert "task_lease_expired" in workers.log(victim) or "task_lease_lost" in workers.log(victim)
    view = (await client.get(f"/v1/requests/{request_id}", headers=staff["auditor"])).json()
    sys2 = view["outcome"]["connectors"]["sys2"]["actions"]["erase"]["categories"]
    assert [(c["outcome"], c["count"]) for c in sys2] == [("erased", 1)]
    for proc in procs:
        assert await workers.terminate(proc) == 0, workers.dump()
