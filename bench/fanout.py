"""Fan-out: one access request over 50 connectors that each take 200 ms, then 200 at once.

The connectors are real HTTP clients (httpx) calling real HTTP servers on loopback: uvicorn
serving a small Starlette app in separate processes (``--servers``, default 4), whose one
endpoint sleeps ``--delay`` seconds (200 ms) and answers one record. The workers are the
service's own: one in-process ``Worker`` as ``innsyn serve`` runs by default, driven by the
real planner (staff-verified requests through ``services.flows.file_request``) and writing to a
real database (SQLite file and/or PostgreSQL).

Run::

    .venv/bin/python -m bench.fanout                          # SQLite only
    bash scripts/with-services.sh .venv/bin/python -m bench.fanout   # SQLite and PostgreSQL

Measured per database:

- ``single``: for each of ``--rounds`` requests filed one after another, the time from the
  request becoming verified (``verified_at``, inside the verifying transaction that plans the
  50 tasks) to completed (``completed_at``, set when the last task's result is written),
  divided by the slowest of its 50 connector calls as the connector measured it (HTTP
  round trip). Target: at most 1.25.
- ``burst``: ``--burst`` requests (200) filed at once: time from the first verification to
  the last completion, requests completed per second, and per-request latency percentiles.

Variants: ``--peers sleep`` replaces HTTP by an in-process ``asyncio.sleep`` (what the
orchestration alone costs); ``--worker-processes N`` runs N ``innsyn worker`` processes
instead of the in-process worker (the single-request ratio is then taken against the nominal
delay, as the calls' own timings stay in those processes: ``slowest_measured`` is false).

Results go to ``bench/results/fanout.json`` (``--out`` for variants).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, SecretStr
from sqlmodel import col, select

from app.connectors.protocol import (
    Capability,
    CollectResult,
    DataCategory,
    Health,
    Record,
    SubjectRef,
)
from app.connectors.registry import ConnectorInstance, ConnectorRegistry
from app.db.migrate import upgrade
from app.db.models import DsrRequest
from app.domain.requests import Role
from app.jobs.runner import Worker
from app.runtime import Runtime
from app.schemas.requests import RequestCreate
from app.security import Principal
from app.services import flows
from app.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "fanout.json"
TARGET_RATIO = 1.25
STAFF = Principal(kind="staff", id="bench", roles=frozenset({Role.operator}))
LATENCIES: dict[str, list[float]] = {}  # request id -> connector call latencies (s)


# -- the slow systems: HTTP servers on loopback ---------------------------------------------


def serve(port: int) -> None:
    """One server process: ``GET /c/{name}?delay=s`` sleeps, then answers one record."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def system(request: Request) -> JSONResponse:
        await asyncio.sleep(float(request.query_params.get("delay", "0.2")))
        name = request.path_params["name"]
        return JSONResponse({"records": [{"category": "contact", "id": "1", "system": name}]})

    async def health(_request: Request) -> JSONResponse:
        return JSONResponse({"ok": True})

    app = Starlette(routes=[Route("/c/{name}", system), Route("/health", health)])
    uvicorn.run(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, backlog=4096
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_servers(count: int) -> tuple[list[subprocess.Popen[bytes]], list[str]]:
    procs, urls = [], []
    for _ in range(count):
        port = free_port()
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "bench.fanout", "serve", "--port", str(port)], cwd=ROOT
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    for url in urls:
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"bench server {url} did not start")
            time.sleep(0.05)
    return procs, urls


class NoConfig(BaseModel):
    pass


class SlowHttpSystem:
    """A collect-only connector over HTTP; it records each call's round-trip time."""

    kind: ClassVar[str] = "bench-http"
    config_model: ClassVar[type[BaseModel]] = NoConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.collect})

    def __init__(self, name: str, base_url: str, delay: float, connections: int) -> None:
        self.name = name
        self.delay = delay
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.client = httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60)

    def categories(self) -> Sequence[DataCategory]:
        return [
            DataCategory(
                name="contact",
                description="contact details",
                purpose="customer service",
                legal_basis="GDPR 6(1)(b) contract",
                retention="while a customer",
            )
        ]

    async def check(self) -> Health:
        return Health(ok=True)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def collect(self, subject: SubjectRef) -> CollectResult:
        started = time.perf_counter()
        response = await self.client.get(f"/c/{self.name}", params={"delay": self.delay})
        response.raise_for_status()
        LATENCIES.setdefault(subject.request_id, []).append(time.perf_counter() - started)
        records = [
            Record(category=r["category"], id=r["id"], data={"system": r["system"]})
            for r in response.json()["records"]
        ]
        return CollectResult(records=records)


class SleepSystem(SlowHttpSystem):
    """The same connector without HTTP: an in-process delay (orchestration cost only)."""

    def __init__(self, name: str, delay: float) -> None:
        self.name = name
        self.delay = delay

    async def aclose(self) -> None:
        return None

    async def collect(self, subject: SubjectRef) -> CollectResult:
        started = time.perf_counter()
        await asyncio.sleep(self.delay)
        LATENCIES.setdefault(subject.request_id, []).append(time.perf_counter() - started)
        record = Record(category="contact", id="1", data={"system": self.name})
        return CollectResult(records=[record])


def registry(
    urls: list[str], *, connectors: int, delay: float, concurrency: int
) -> ConnectorRegistry:
    """HTTP systems when ``urls`` are given, in-process delays otherwise."""

    def system(i: int) -> SlowHttpSystem:
        name = f"system-{i:02d}"
        if not urls:
            return SleepSystem(name, delay)
        return SlowHttpSystem(name, urls[i % len(urls)], delay, concurrency)

    return ConnectorRegistry.of(
        ConnectorInstance(
            name=f"system-{i:02d}",
            kind=SlowHttpSystem.kind,
            connector=system(i),
            concurrency=concurrency,
            timeout_seconds=30,
            max_attempts=3,
        )
        for i in range(connectors)
    )


def registry_from_env() -> ConnectorRegistry:
    """``INNSYN_CONNECTOR_FACTORY=bench.fanout:registry_from_env`` for worker processes."""
    urls = [u for u in os.environ.get("FANOUT_URLS", "").split(",") if u]
    return registry(
        urls,
        connectors=int(os.environ["FANOUT_CONNECTORS"]),
        delay=float(os.environ["FANOUT_DELAY"]),
        concurrency=int(os.environ["FANOUT_CONCURRENCY"]),
    )


# -- the service side -----------------------------------------------------------------------


async def prepare_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'fanout.db'}"
    else:
        import asyncpg  # type: ignore[import-untyped]

        base = os.environ["INNSYN_TEST_PG_URL"].rpartition("/")[0]
        admin = base.replace("postgresql+asyncpg", "postgresql") + "/postgres"
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute('DROP DATABASE IF EXISTS "innsyn_bench_fanout" WITH (FORCE)')
            await conn.execute('CREATE DATABASE "innsyn_bench_fanout"')
        finally:
            await conn.close()
        url = f"{base}/innsyn_bench_fanout"
    await asyncio.to_thread(upgrade, url)
    return url


def build_runtime(url: str, workdir: Path, worker_concurrency: int) -> Runtime:
    settings = Settings(
        env="test",
        var_dir=workdir / "var",
        database_url=url,
        signing_key=SecretStr("bench-signing-key-" + "x" * 32),
        data_key=SecretStr(base64.urlsafe_b64encode(os.urandom(32)).decode()),
        run_workers=False,
        worker_concurrency=worker_concurrency,
        _env_file=None,
    )
    return Runtime.build(settings)


async def file_request(rt: Runtime, n: int) -> str:
    body = RequestCreate.model_validate(
        {
            "kind": "access",
            "subject": {"email": f"person{n}@example.no"},
            "verification": {"method": "staff", "note": "bench"},
        }
    )
    async with rt.db.session() as session:
        created = await flows.file_request(rt, session, principal=STAFF, body=body)
    return created.request.id


async def wait_completed(rt: Runtime, ids: list[str], poll: float) -> list[DsrRequest]:
    while True:
        async with rt.db.session() as session:
            rows = list(await session.exec(select(DsrRequest).where(col(DsrRequest.id).in_(ids))))
        if all(r.status == "completed" for r in rows):
            return rows
        await asyncio.sleep(poll)


def seconds(later: datetime | None, earlier: datetime | None) -> float:
    assert later is not None and earlier is not None
    return (later - earlier).total_seconds()


async def single(rt: Runtime, rounds: int, connectors: int, nominal: float) -> dict[str, Any]:
    samples = []
    for n in range(rounds):
        request_id = await file_request(rt, n)
        [row] = await wait_completed(rt, [request_id], poll=0.005)
        calls = LATENCIES.pop(request_id, [])
        completion = seconds(row.completed_at, row.verified_at)
        measured = bool(calls)
        if not measured:  # the calls ran in worker processes: compare with the nominal delay
            calls = [nominal]
        assert len(calls) in (1, connectors), (len(calls), connectors)
        slowest = max(calls)
        samples.append(
            {
                "completion_s": round(completion, 4),
                "slowest_connector_s": round(slowest, 4),
                "ratio": round(completion / slowest, 3),
                "slowest_measured": measured,
            }
        )
    ratios = [s["ratio"] for s in samples]
    return {
        "rounds": samples,
        "ratio_median": round(statistics.median(ratios), 3),
        "ratio_worst": max(ratios),
        "target_ratio": TARGET_RATIO,
        "meets_target": statistics.median(ratios) <= TARGET_RATIO,
    }


async def burst(rt: Runtime, count: int) -> dict[str, Any]:
    started = datetime.now(UTC)
    ids = await asyncio.gather(*(file_request(rt, 10_000 + n) for n in range(count)))
    rows = await wait_completed(rt, list(ids), poll=0.05)
    first = min(r.verified_at for r in rows if r.verified_at)
    last = max(r.completed_at for r in rows if r.completed_at)
    total = (last - first).total_seconds()
    latencies = sorted(seconds(r.completed_at, r.verified_at) for r in rows)
    for request_id in ids:
        LATENCIES.pop(request_id, None)
    return {
        "requests": count,
        "filing_s": round((first - started).total_seconds(), 3),
        "first_verified_to_last_completed_s": round(total, 3),
        "requests_per_second": round(count / total, 2),
        "tasks_per_second": round(count * len(rt.connectors.instances) / total, 1),
        "latency_s": {
            "p50": round(latencies[len(latencies) // 2], 3),
            "p95": round(latencies[int(len(latencies) * 0.95) - 1], 3),
            "max": round(latencies[-1], 3),
        },
    }


async def run_one(kind: str, args: argparse.Namespace, urls: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="innsyn-fanout-") as tmp:
        workdir = Path(tmp)
        url = await prepare_database(kind, workdir)
        rt = build_runtime(url, workdir, args.worker_concurrency)
        rt.connectors = registry(
            urls,
            connectors=args.connectors,
            delay=args.delay,
            concurrency=args.connector_concurrency,
        )
        worker = Worker(rt, linger=args.linger) if not args.worker_processes else None
        running = asyncio.create_task(worker.run()) if worker else None
        procs = start_workers(rt, urls, args) if args.worker_processes else []
        try:
            await file_request(rt, -1)  # warm-up: imports, connections, caches
            await wait_completed(rt, [await file_request(rt, -2)], poll=0.05)
            LATENCIES.clear()
            result = {
                "single": await single(rt, args.rounds, args.connectors, args.delay),
                "burst": await burst(rt, args.burst),
            }
        finally:
            if worker is not None and running is not None:
                worker.stop()
                await running
            for proc in procs:
                proc.terminate()
                proc.wait(30)
            await rt.connectors.aclose()
            await rt.db.dispose()
    return result


def start_workers(
    rt: Runtime, urls: list[str], args: argparse.Namespace
) -> list[subprocess.Popen[bytes]]:
    """``innsyn worker`` processes on the same database, with the same connectors."""
    settings = rt.settings
    assert settings.data_key is not None and settings.signing_key is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("INNSYN_")} | {
        "INNSYN_ENV": "test",
        "INNSYN_DATABASE_URL": settings.database_url,
        "INNSYN_DATA_KEY": settings.data_key.get_secret_value(),
        "INNSYN_SIGNING_KEY": settings.signing_key.get_secret_value(),
        "INNSYN_VAR_DIR": str(settings.var_dir),
        "INNSYN_WORKER_CONCURRENCY": str(args.worker_concurrency),
        "INNSYN_CONNECTOR_FACTORY": "bench.fanout:registry_from_env",
        "FANOUT_URLS": ",".join(urls),
        "FANOUT_CONNECTORS": str(args.connectors),
        "FANOUT_DELAY": str(args.delay),
        "FANOUT_CONCURRENCY": str(args.connector_concurrency),
        "PYTHONPATH": str(ROOT),
    }
    return [
        subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(args.worker_processes)
    ]


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    srv = sub.add_parser("serve", help="(internal) run one loopback server")
    srv.add_argument("--port", type=int, required=True)
    parser.add_argument("--connectors", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--servers", type=int, default=4)
    parser.add_argument("--worker-concurrency", type=int, default=1000)
    parser.add_argument("--connector-concurrency", type=int, default=200)
    parser.add_argument("--linger", type=float, default=0.04, help="write-back batching window")
    parser.add_argument("--peers", choices=["http", "sleep"], default="http")
    parser.add_argument(
        "--worker-processes",
        type=int,
        default=0,
        help="run N `innsyn worker` processes instead of the in-process worker",
    )
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default=None)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.command == "serve":
        serve(args.port)
        return
    dbs = {"both": ["sqlite", "postgresql"], None: None}.get(args.db, [args.db])
    if dbs is None:
        dbs = ["sqlite", "postgresql"] if os.environ.get("INNSYN_TEST_PG_URL") else ["sqlite"]
    procs, urls = start_servers(args.servers) if args.peers == "http" else ([], [])
    try:
        results = {db: asyncio.run(run_one(db, args, urls)) for db in dbs}
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
    report = {
        "benchmark": "fanout",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "setup": {
            "connectors": args.connectors,
            "delay_s": args.delay,
            "peers": (
                f"real HTTP servers on loopback ({args.servers} uvicorn processes), httpx"
                if args.peers == "http"
                else "in-process delays (asyncio.sleep), no HTTP"
            ),
            "workers": (
                f"{args.worker_processes} `innsyn worker` processes"
                if args.worker_processes
                else "one in-process Worker (as `innsyn serve`)"
            ),
            "linger_s": args.linger,
            "worker_concurrency": args.worker_concurrency,
            "connector_concurrency": args.connector_concurrency,
            "burst": args.burst,
        },
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
