"""End to end as a user deploys it: ``innsyn serve`` (``INNSYN_RUN_WORKERS=false``) plus one
``innsyn worker``, default settings, PostgreSQL, the 10k-customer CRM of ``crm_bench.sql``.

Run inside a throwaway PostgreSQL (``make bench-e2e``)::

    bash scripts/with-services.sh .venv/bin/python -m bench.e2e [--runs 3] [--profile]

Per run, with a fresh service database:

- ``sequential``: one staff-attested access request at a time, ``POST /v1/requests`` until
  the client sees it completed (one watcher lists ``updated_since`` every 5 ms), and by the
  request's own timeline (``completed_at - received_at``).
- ``at_once``: 20 people filed at once; requests completed per second (until the last one's
  ``completed_at``).
- ``intake``, ``poll_304`` and ``hello``: 16 connections back to back for a few seconds:
  staff-attested ``POST /v1/requests``, ``GET /v1/requests/{id}`` answered 304, and a bare
  FastAPI hello served the same way (one uvicorn process).

The load comes from a raw asyncio HTTP/1.1 client (``bench/rawhttp.py``). CPU per request is
read from ``/proc`` for each process: the API, the worker, PostgreSQL (all its processes).
``--profile`` records py-spy flame graphs of the API and the worker under ``bench/results/``.
Results: ``bench/results/e2e.json`` (every run, and medians over runs).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr

from bench.crm import _free_port, asyncpg_url, load_crm, mapping, psql
from bench.rawhttp import Connection, load

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
OUT = RESULTS / "e2e.json"
CUSTOMERS = 10_000
AT_ONCE = 20
CONNECTIONS = 16
POLL = 0.005  # seconds between the watcher's list calls
TICK = os.sysconf("SC_CLK_TCK")
GOALS = {
    "sequential_ms": 30.0,
    "at_once_rps": 50.0,
    "intake_vs_hello": 0.1,
    "poll_304_vs_hello": 0.4,
}


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def postgres_pids(admin_url: str) -> list[int]:
    """The postmaster and every process it started (backends, writer, WAL…)."""
    out = subprocess.run(
        ["psql", "-qtAX", admin_url, "-c", "SHOW data_directory"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    master = int(Path(out, "postmaster.pid").read_text().split()[0])
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, IndexError, ValueError):
            continue
        if parent == master:
            children.append(int(stat.parent.name))
    return [master, *children]


class Deployment:
    """The API, one worker and the hello, each its own process on loopback."""

    def __init__(
        self, admin_url: str, crm_url: str, workdir: Path, app_dir: Path | None = None
    ) -> None:
        self.admin_url, self.crm_url, self.workdir = admin_url, crm_url, workdir
        self.app_dir = app_dir
        self.port, self.hello_port = _free_port(), _free_port()
        self.signing_key = secrets.token_urlsafe(48)
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        psql(self.admin_url, "-c", 'DROP DATABASE IF EXISTS "innsyn_e2e" WITH (FORCE)')
        psql(self.admin_url, "-c", 'CREATE DATABASE "innsyn_e2e"')
        connectors = self.workdir / "connectors.yaml"
        entry = {"name": "crm", "kind": "sql", "config": mapping("${CRM_URL}")}  # defaults
        connectors.write_text(yaml.safe_dump({"connectors": [entry]}))
        env = {
            **os.environ,
            "CRM_URL": self.crm_url,
            "INNSYN_ENV": "development",
            "INNSYN_VAR_DIR": str(self.workdir / "var"),
            "INNSYN_DATABASE_URL": asyncpg_url(self.admin_url, "innsyn_e2e"),
            "INNSYN_CONNECTORS_FILE": str(connectors),
            "INNSYN_CONNECTORS_STRICT": "true",
            "INNSYN_SIGNING_KEY": self.signing_key,
            "INNSYN_DATA_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "INNSYN_RUN_WORKERS": "false",
            "INNSYN_RUN_SCHEDULER": "false",
        }
        innsyn = [str(Path(sys.executable).parent / "innsyn")]
        if self.app_dir is not None:  # another checkout of the service (the "before" figures)
            launch = f"import sys; sys.path.insert(0, {str(self.app_dir)!r}); "
            innsyn = [sys.executable, "-c", launch + "from app.cli import main; main()"]
        subprocess.run([*innsyn, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
        serve = [*innsyn, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self._spawn("api", serve, env)
        self._spawn("worker", [*innsyn, "worker"], env)
        self._spawn("hello", [sys.executable, "-m", "bench.hello", str(self.hello_port)], env)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        log = (self.workdir / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)

    def token(self) -> str:
        from app.domain.requests import Role
        from app.security import issue_local_token
        from app.settings import Settings

        settings = Settings(
            env="development",
            var_dir=self.workdir / "var",
            signing_key=SecretStr(self.signing_key),
            _env_file=None,
        )
        return issue_local_token(settings, subject="bench", roles=[Role.operator])

    def pid(self, name: str) -> int:
        return self.procs[name].pid

    def stop(self) -> None:
        for proc in self.procs.values():
            proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def body(k: int) -> dict[str, Any]:
    return {
        "kind": "access",
        "subject": {"email": f"customer_{k}@example.com"},
        "channel": "email",
        "verification": {"method": "staff", "note": "benchmark"},
    }


async def wait_ready(conn: Connection, path: str = "/readyz", seconds: float = 60.0) -> None:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        try:
            if (await conn.request("GET", path)).status == 200:
                return
        except OSError:
            conn.writer = None
        await asyncio.sleep(0.1)
    raise RuntimeError("the service did not become ready (see its log)")


def _ts(value: str) -> float:
    return datetime.fromisoformat(value).timestamp()


class Watcher:
    """Learns when requests complete from one list call every ``interval``, however many
    wait (polling every request's view would load the service more than the requests do)."""

    def __init__(self, conn: Connection, interval: float) -> None:
        self.conn, self.interval = conn, interval
        self.waiting: dict[str, tuple[float, asyncio.Future[dict[str, Any]]]] = {}
        self.task: asyncio.Task[None] | None = None

    async def wait(self, request_id: str, start: float) -> dict[str, Any]:
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.waiting[request_id] = (start, future)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._poll())
        try:
            return await asyncio.wait_for(future, 120)
        finally:
            self.waiting.pop(request_id, None)

    async def _poll(self) -> None:
        while self.waiting:
            await asyncio.sleep(self.interval)
            if not self.waiting:
                return
            since = datetime.fromtimestamp(min(t for t, _ in self.waiting.values()) - 1, UTC)
            query = f"updated_since={since.isoformat().replace('+00:00', 'Z')}&limit=200"
            page = (await self.conn.request("GET", f"/v1/requests?{query}")).json()
            seen = time.time()
            for item in page["items"]:
                entry = self.waiting.get(item["id"])
                if entry is None or entry[1].done():
                    continue
                if item["status"] == "completed":
                    entry[1].set_result(item | {"seen": seen})
                elif item["status"] not in ("received", "verified", "in_progress"):
                    entry[1].set_exception(RuntimeError(f"{item['id']} is {item['status']}"))


async def one_request(conn: Connection, watcher: Watcher, k: int) -> dict[str, Any]:
    """POST, then wait until the watcher sees it completed."""
    start = time.time()
    created = await conn.request("POST", "/v1/requests", body(k))
    if created.status != 201:
        raise RuntimeError(f"POST: {created.status} {created.body[:300]!r}")
    request_id = created.json()["id"]
    item = await watcher.wait(request_id, start)
    return {
        "request_id": request_id,
        "client_ms": (item["seen"] - start) * 1000,
        "timeline_ms": (_ts(item["completed_at"]) - _ts(item["received_at"])) * 1000,
        "start": start,
        "completed_at": _ts(item["completed_at"]),
    }


async def idle(conn: Connection) -> None:
    """Wait until the worker has finished everything filed so far."""
    while True:
        page = (await conn.request("GET", "/v1/requests?status=in_progress&limit=1")).json()
        if not page["items"]:
            return
        await asyncio.sleep(0.1)


class Cpu:
    def __init__(self, pids: dict[str, list[int]]) -> None:
        self.pids = pids
        self.before = {k: cpu_seconds(v) for k, v in pids.items()}

    def per_request_ms(self, count: int) -> dict[str, float]:
        return {
            k: round((cpu_seconds(v) - self.before[k]) * 1000 / max(1, count), 2)
            for k, v in self.pids.items()
        }


def profile(pid: int, out: Path, seconds: int) -> subprocess.Popen[bytes]:
    spy = str(Path(sys.executable).parent / "py-spy")
    return subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            "250",
            "--nonblocking",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def spy_on(
    args: argparse.Namespace, run: int, dep: Deployment, phase: str, seconds: int | None = None
) -> list[subprocess.Popen[bytes]]:
    """Flame graphs of the API and the worker during a phase (first run only)."""
    if not args.profile or run != 0:
        return []
    length = seconds or max(1, int(args.seconds) - 1)
    name = f"{args.label}-{phase}"
    return [
        profile(dep.pid(p), RESULTS / f"profile-e2e-{name}-{p}.svg", length)
        for p in ("api", "worker")
    ]


async def run_once(
    admin_url: str, crm_url: str, args: argparse.Namespace, run: int
) -> dict[str, Any]:
    rng = random.Random(run)
    with tempfile.TemporaryDirectory(prefix="innsyn-e2e-") as tmp:
        app_dir = Path(args.app_dir) if args.app_dir else None
        dep = Deployment(admin_url, crm_url, Path(tmp), app_dir)
        dep.start()
        try:
            auth = {"Authorization": f"Bearer {dep.token()}"}
            conn = Connection("127.0.0.1", dep.port, auth)
            await wait_ready(conn)
            await wait_ready(Connection("127.0.0.1", dep.hello_port), "/hello")
            pids = {
                "api": [dep.pid("api")],
                "worker": [dep.pid("worker")],
                "postgres": postgres_pids(admin_url),
            }
            watcher = Watcher(Connection("127.0.0.1", dep.port, auth), POLL)
            for _ in range(20):  # warm pools, caches, prepared statements
                await one_request(conn, watcher, rng.randint(1, CUSTOMERS))

            cpu = Cpu(pids)
            seq = [
                await one_request(conn, watcher, rng.randint(1, CUSTOMERS))
                for _ in range(args.samples)
            ]
            sequential = {
                "client_ms_median": round(statistics.median(s["client_ms"] for s in seq), 1),
                "timeline_ms_median": round(statistics.median(s["timeline_ms"] for s in seq), 1),
                "cpu_ms_per_request": cpu.per_request_ms(len(seq)),
            }

            spies = spy_on(args, run, dep, "at-once", seconds=8)
            rates, cpu = [], Cpu(pids)
            conns = [Connection("127.0.0.1", dep.port, auth) for _ in range(AT_ONCE)]
            for _ in range(args.rounds):
                people = rng.sample(range(1, CUSTOMERS + 1), AT_ONCE)
                spans = await asyncio.gather(
                    *(one_request(c, watcher, k) for c, k in zip(conns, people, strict=True))
                )
                first = min(s["start"] for s in spans)
                rates.append(AT_ONCE / (max(s["completed_at"] for s in spans) - first))
            at_once = {
                "rps_median": round(statistics.median(rates), 1),
                "rounds": len(rates),
                "cpu_ms_per_request": cpu.per_request_ms(AT_ONCE * len(rates)),
            }
            for spy in spies:
                spy.wait()

            counter = iter(range(10**9))

            def intake_call(_i: int) -> tuple[str, str, Any, None]:
                return "POST", "/v1/requests", body(next(counter) % CUSTOMERS + 1), None

            spies = spy_on(args, run, dep, "intake")
            cpu = Cpu(pids)
            done, took = await load(
                "127.0.0.1", dep.port, intake_call, connections=CONNECTIONS,
                seconds=args.seconds, headers=auth, expect=201,
            )  # fmt: skip
            intake = {"rps": round(done / took, 1), "cpu_ms_per_request": cpu.per_request_ms(done)}
            for spy in spies:
                spy.wait()
            await idle(conn)  # the worker's backlog is not the next phase's load

            # A request long completed (its letters sent): nothing changes it during the poll.
            request_id = seq[-1]["request_id"]
            view = await conn.request("GET", f"/v1/requests/{request_id}")
            tag = view.headers["etag"]

            def poll_call(_i: int) -> tuple[str, str, Any, dict[str, str]]:
                return "GET", f"/v1/requests/{request_id}", None, {"If-None-Match": tag}

            spies = spy_on(args, run, dep, "poll-304")
            cpu = Cpu(pids)
            done, took = await load(
                "127.0.0.1", dep.port, poll_call, connections=CONNECTIONS,
                seconds=args.seconds, headers=auth, expect=304,
            )  # fmt: skip
            poll_304 = {
                "rps": round(done / took, 1),
                "cpu_ms_per_request": cpu.per_request_ms(done),
            }
            for spy in spies:
                spy.wait()

            def hello_call(_i: int) -> tuple[str, str, Any, None]:
                return "GET", "/hello", None, None

            cpu = Cpu({"hello": [dep.pid("hello")]})
            done, took = await load(
                "127.0.0.1", dep.hello_port, hello_call, connections=CONNECTIONS,
                seconds=args.seconds,
            )  # fmt: skip
            hello = {"rps": round(done / took, 1), "cpu_ms_per_request": cpu.per_request_ms(done)}
        finally:
            dep.stop()
    return {
        "sequential": sequential,
        "at_once": at_once,
        "intake": intake,
        "poll_304": poll_304,
        "hello": hello,
        "intake_vs_hello": round(intake["rps"] / hello["rps"], 3),
        "poll_304_vs_hello": round(poll_304["rps"] / hello["rps"], 3),
    }


def medians(runs: list[dict[str, Any]]) -> dict[str, float]:
    def med(get: Any) -> float:
        return round(statistics.median(get(r) for r in runs), 3)

    return {
        "sequential_client_ms": med(lambda r: r["sequential"]["client_ms_median"]),
        "sequential_timeline_ms": med(lambda r: r["sequential"]["timeline_ms_median"]),
        "at_once_rps": med(lambda r: r["at_once"]["rps_median"]),
        "intake_rps": med(lambda r: r["intake"]["rps"]),
        "poll_304_rps": med(lambda r: r["poll_304"]["rps"]),
        "hello_rps": med(lambda r: r["hello"]["rps"]),
        "intake_vs_hello": med(lambda r: r["intake_vs_hello"]),
        "poll_304_vs_hello": med(lambda r: r["poll_304_vs_hello"]),
        "intake_api_cpu_ms": med(lambda r: r["intake"]["cpu_ms_per_request"]["api"]),
        "poll_304_api_cpu_ms": med(lambda r: r["poll_304"]["cpu_ms_per_request"]["api"]),
        "sequential_cpu_ms_total": med(
            lambda r: sum(r["sequential"]["cpu_ms_per_request"].values())
        ),
    }


async def main_async(args: argparse.Namespace) -> None:
    admin_url = os.environ["INNSYN_TEST_PG_ADMIN_URL"]
    print(f"loading the CRM ({CUSTOMERS} customers)…", flush=True)
    load_crm(admin_url, "crm_e2e", CUSTOMERS)
    crm_url = asyncpg_url(admin_url, "crm_e2e")
    runs = []
    for run in range(args.runs):
        result = await run_once(admin_url, crm_url, args, run)
        print(json.dumps(result), flush=True)
        runs.append(result)
    summary = medians(runs)
    met = {
        "sequential_ms": summary["sequential_client_ms"] <= GOALS["sequential_ms"],
        "at_once_rps": summary["at_once_rps"] >= GOALS["at_once_rps"],
        "intake_vs_hello": summary["intake_vs_hello"] >= GOALS["intake_vs_hello"],
        "poll_304_vs_hello": summary["poll_304_vs_hello"] >= GOALS["poll_304_vs_hello"],
    }
    out = {
        "when": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "note": "a 2-core machine shared with other work; medians over runs",
        "label": args.label,
        "goals": GOALS,
        "met": met,
        "median": summary,
        "runs": runs,
    }
    target = Path(args.out)
    existing = json.loads(target.read_text()) if target.exists() else {}
    existing[args.label] = out
    target.write_text(json.dumps(existing, indent=2) + "\n")
    print(json.dumps({"median": summary, "met": met}, indent=2))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--label", default="after")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--app-dir", help="run the service from this checkout (e.g. main's)")
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
