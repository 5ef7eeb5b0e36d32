"""Access requests over a PostgreSQL CRM through the ``sql`` connector: latency and throughput.

Run inside a throwaway PostgreSQL (``make bench-crm``)::

    bash scripts/with-services.sh .venv/bin/python -m bench.crm [--mode both] [--sizes 10000]

For each size the CRM of ``crm_bench.sql`` (customer k: customer_<k>@example.com, 5 orders,
3 invoices, 2 notes) is loaded into its own database, and then:

- ``connector``: ``SqlConnector.collect`` called directly. Latency is the median of
  sequential collects for random people; throughput is 20 collects for 20 different people
  started at once, as people per second (median over rounds).
- ``e2e``: the real service (``innsyn serve`` in its own process, workers in-process, its own
  PostgreSQL database) with the same connector: from ``POST /v1/requests`` (staff-verified
  access request) until the service completes it (its ``completed_at``, on the same
  machine's clock; ``GET /v1/requests?updated_since=`` is polled every 20 ms to learn
  it), one at a time, and 20 people filed at once.

The connector matches e-mail case-insensitively (its default), which needs an index on
``lower(email)``: the bench creates it beside the indexes ``crm_bench.sql`` makes itself.
Results go to ``bench/results/crm.json``.
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
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import yaml
from pydantic import SecretStr

from app.connectors.builtin.sql import SqlConnector
from app.connectors.protocol import SubjectRef

ROOT = Path(__file__).resolve().parents[1]
DATA = Path("/work/shared/data/crm_bench.sql")
OUT = ROOT / "bench" / "results" / "crm.json"
TARGET = {"latency_ms": 50.0, "throughput_rps_at_20": 46.0}
AT_ONCE = 20
POLL_SECONDS = 0.02
FAILED = ("awaiting_manual", "refused", "withdrawn", "closed_unverified")
EXTRA_INDEXES = ["CREATE INDEX IF NOT EXISTS customers_lower_email_idx ON customers (lower(email))"]
EXPECTED = {"contact": 1, "orders": 5, "invoices": 3, "notes": 2}


def mapping(url: str) -> dict[str, Any]:
    """The connector config for the bench CRM (what an operator would write)."""

    def category(name: str, description: str, basis: str) -> dict[str, Any]:
        return {
            "name": name,
            "description": description,
            "purpose": "Customer relationship",
            "legal_basis": basis,
            "retention": "3.5 years after the customer relationship ends",
        }

    return {
        "url": url,
        "pool_size": 25,
        "categories": [
            category("contact", "Name, e-mail, phone, address", "GDPR 6(1)(b) contract"),
            category("orders", "Orders and delivery addresses", "GDPR 6(1)(b) contract"),
            category("invoices", "Invoices", "GDPR 6(1)(c) legal obligation"),
            category("notes", "Support notes", "GDPR 6(1)(f) legitimate interest"),
        ],
        "tables": [
            {
                "name": "customers",
                "category": "contact",
                "match": {"email": {"column": "email", "case_insensitive": True}},
                "columns": [{"name": "email", "erase": "anonymise"}, "name", "phone", "address"],
            },
            {
                "name": "orders",
                "category": "orders",
                "parent": {"column": "customer_id", "table": "customers"},
                "columns": ["order_date", "status", "total", "shipping_address"],
            },
            {
                "name": "invoices",
                "category": "invoices",
                "erase": "never",
                "not_erasable_reason": "bookkeeping: erased by the invoicing system",
                "parent": {"column": "customer_id", "table": "customers"},
                "columns": ["amount", "paid", "issued_at"],
            },
            {
                "name": "notes",
                "category": "notes",
                "parent": {"column": "customer_id", "table": "customers"},
                "columns": ["body"],
            },
        ],
    }


def subject(k: int) -> SubjectRef:
    return SubjectRef(request_id=f"bench-{k}", emails=[f"customer_{k}@example.com"])


# ----- databases -------------------------------------------------------------------------


def psql(admin_url: str, *args: str, db: str | None = None) -> None:
    url = admin_url if db is None else admin_url.rpartition("/")[0] + f"/{db}"
    subprocess.run(["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", url, *args], check=True)


def load_crm(admin_url: str, db: str, n: int) -> float:
    """A fresh database with ``n`` customers; returns the seconds it took."""
    started = time.perf_counter()
    psql(admin_url, "-c", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    psql(admin_url, "-c", f'CREATE DATABASE "{db}"')
    psql(admin_url, "-v", f"n_customers={n}", "-f", str(DATA), db=db)
    for statement in EXTRA_INDEXES:
        psql(admin_url, "-c", statement, db=db)
    psql(admin_url, "-c", "ANALYZE", db=db)
    return time.perf_counter() - started


def asyncpg_url(admin_url: str, db: str) -> str:
    base = admin_url.rpartition("/")[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{db}"


# ----- measuring -------------------------------------------------------------------------


def summary(latencies: list[float], rates: list[float]) -> dict[str, Any]:
    ordered = sorted(latencies)
    return {
        "latency_ms": {
            "median": round(statistics.median(ordered) * 1000, 2),
            "p95": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2),
            "max": round(ordered[-1] * 1000, 2),
            "samples": len(ordered),
        },
        "throughput_rps_at_20": {
            "median": round(statistics.median(rates), 1),
            "min": round(min(rates), 1),
            "rounds": len(rates),
        },
    }


Timed = Callable[[int], Awaitable[tuple[float, float]]]


async def measure(one: Timed, n: int, *, samples: int, rounds: int, seed: int) -> dict[str, Any]:
    """Median latency of ``one`` alone, and people per second with 20 started at once.

    ``one(k)`` returns (start, end) on the wall clock for customer k.
    """
    rng = random.Random(seed)
    for _ in range(min(20, samples)):  # warm pools, caches and prepared statements
        await one(rng.randint(1, n))
    latencies = []
    for _ in range(samples):
        start, end = await one(rng.randint(1, n))
        latencies.append(end - start)
    rates = []
    for _ in range(rounds):
        people = rng.sample(range(1, n + 1), AT_ONCE)
        spans = await asyncio.gather(*(one(k) for k in people))
        elapsed = max(end for _, end in spans) - min(start for start, _ in spans)
        rates.append(AT_ONCE / elapsed)
    return summary(latencies, rates)


async def connector_level(url: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    connector = SqlConnector(name="crm", config=mapping(url))
    try:
        health = await connector.check()

        async def one(k: int) -> tuple[float, float]:
            start = time.perf_counter()
            result = await connector.collect(subject(k))
            end = time.perf_counter()
            counts = {c: len(r) for c, r in result.by_category().items()}
            if counts != EXPECTED:
                raise AssertionError(f"customer {k}: collected {counts}, expected {EXPECTED}")
            return start, end

        result = await measure(one, n, samples=args.samples, rounds=args.rounds, seed=n)
    finally:
        await connector.aclose()
    return {"what": "SqlConnector.collect, called directly", "check": health.detail, **result}


# ----- end to end ------------------------------------------------------------------------


class Service:
    """``innsyn serve`` in a child process, with its own database and connectors file."""

    def __init__(self, admin_url: str, crm_url: str, workdir: Path) -> None:
        self.admin_url = admin_url
        self.crm_url = crm_url
        self.workdir = workdir
        self.port = _free_port()
        self.signing_key = secrets.token_urlsafe(48)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> str:
        psql(self.admin_url, "-c", 'DROP DATABASE IF EXISTS "innsyn_bench_app" WITH (FORCE)')
        psql(self.admin_url, "-c", 'CREATE DATABASE "innsyn_bench_app"')
        connectors = self.workdir / "connectors.yaml"
        config = mapping("${CRM_URL}")
        entry = {"name": "crm", "kind": "sql", "concurrency": 32, "config": config}
        connectors.write_text(yaml.safe_dump({"connectors": [entry]}))
        env = {
            **os.environ,
            "CRM_URL": self.crm_url,
            "INNSYN_ENV": "development",
            "INNSYN_VAR_DIR": str(self.workdir / "var"),
            "INNSYN_DATABASE_URL": asyncpg_url(self.admin_url, "innsyn_bench_app"),
            "INNSYN_CONNECTORS_FILE": str(connectors),
            "INNSYN_CONNECTORS_STRICT": "true",
            "INNSYN_SIGNING_KEY": self.signing_key,
            "INNSYN_DATA_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "INNSYN_RUN_SCHEDULER": "false",
        }
        innsyn = str(Path(sys.executable).parent / "innsyn")
        subprocess.run([innsyn, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
        log = (self.workdir / "serve.log").open("wb")
        self.process = subprocess.Popen(
            [innsyn, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        return f"http://127.0.0.1:{self.port}"

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

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def _wait_ready(client: httpx.AsyncClient, deadline: float = 60.0) -> None:
    started = time.monotonic()
    while time.monotonic() - started < deadline:
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("the service did not become ready (see serve.log)")


async def end_to_end(
    admin_url: str, crm_url: str, n: int, args: argparse.Namespace
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="innsyn-bench-") as tmp:
        service = Service(admin_url, crm_url, Path(tmp))
        base = service.start()
        try:
            headers = {"Authorization": f"Bearer {service.token()}"}
            limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
            async with httpx.AsyncClient(
                base_url=base, headers=headers, limits=limits, timeout=60
            ) as client:
                await _wait_ready(client)
                listed = (await client.get("/v1/connectors")).json()["connectors"]
                keys = ("name", "kind", "capabilities", "health")
                connectors = [{k: c.get(k) for k in keys} for c in listed]

                completions = Completions(client)

                async def one(k: int) -> tuple[float, float]:
                    return await _access_request(client, completions, k)

                result = await measure(
                    one, n, samples=args.e2e_samples, rounds=args.rounds, seed=n + 1
                )
                sequential = completions.posted[20 : 20 + args.e2e_samples]
                result["breakdown_ms_one_at_a_time"] = await breakdown(client, sequential)
        finally:
            service.stop()
    return {
        "what": "POST /v1/requests (staff-verified access) until the request's completed_at; "
        "innsyn serve (one process, in-process workers) on the same machine",
        "connectors": connectors,
        **result,
    }


class Completions:
    """Learns when requests complete with one list call per interval, however many wait.

    Polling each request's full view would load the service more than the requests do.
    """

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.waiting: dict[str, tuple[float, asyncio.Future[float]]] = {}
        self.poller: asyncio.Task[None] | None = None
        self.posted: list[tuple[str, float]] = []  # (request id, seconds the POST took)

    async def wait(self, request_id: str, posted: float) -> float:
        """The request's ``completed_at`` as a wall-clock timestamp."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[request_id] = (posted, future)
        if self.poller is None or self.poller.done():
            self.poller = asyncio.create_task(self._poll())
        try:
            return await asyncio.wait_for(future, timeout=120)
        except TimeoutError:
            view = (await self.client.get(f"/v1/requests/{request_id}")).json()
            raise RuntimeError(f"request {request_id} is {view['status']} after 120 s") from None
        finally:
            self.waiting.pop(request_id, None)

    async def _poll(self) -> None:
        while self.waiting:
            await asyncio.sleep(POLL_SECONDS)
            if not self.waiting:
                return
            oldest = min(posted for posted, _ in self.waiting.values()) - 1
            since = datetime.fromtimestamp(oldest, UTC).isoformat()
            params: dict[str, str | int] = {"updated_since": since, "limit": 200}
            page = (await self.client.get("/v1/requests", params=params)).json()
            for item in page["items"]:
                entry = self.waiting.get(item["id"])
                if entry is None or entry[1].done():
                    continue
                if item["status"] == "completed":
                    entry[1].set_result(datetime.fromisoformat(item["completed_at"]).timestamp())
                elif item["status"] in FAILED:
                    entry[1].set_exception(RuntimeError(f"{item['id']} is {item['status']}"))


async def _access_request(
    client: httpx.AsyncClient, completions: Completions, k: int
) -> tuple[float, float]:
    """File one access request; (when it was posted, when the service completed it).

    Both are wall-clock times of this machine: the end is the request's own ``completed_at``,
    so the polling interval does not add to the latency.
    """
    body = {
        "kind": "access",
        "subject": {"email": f"customer_{k}@example.com"},
        "channel": "email",
        "verification": {"method": "staff", "note": "benchmark"},
    }
    start = time.time()
    created = await client.post("/v1/requests", json=body)
    if created.status_code != 201:
        raise RuntimeError(f"POST /v1/requests: HTTP {created.status_code} {created.text[:300]}")
    request_id = created.json()["id"]
    completions.posted.append((request_id, time.time() - start))
    return start, await completions.wait(request_id, start)


async def breakdown(client: httpx.AsyncClient, posted: list[tuple[str, float]]) -> dict[str, float]:
    """Where one request's time goes (medians, ms), from the requests' own timelines."""
    phases: dict[str, list[float]] = {}
    for request_id, post_seconds in posted:
        view = (await client.get(f"/v1/requests/{request_id}")).json()
        at = {e["action"]: datetime.fromisoformat(e["at"]) for e in view["timeline"]}
        task = view["tasks"][0]
        created, started, finished = (
            datetime.fromisoformat(task[k]) for k in ("created_at", "started_at", "finished_at")
        )
        spans = {
            "received_to_in_progress": (at["request.start"] - at["request.received"]),
            "task_created_to_started": (started - created),
            "task_started_to_finished": (finished - started),
            "task_finished_to_completed": (at["request.complete"] - finished),
            "received_to_completed": (at["request.complete"] - at["request.received"]),
        }
        phases.setdefault("post_response", []).append(post_seconds)
        for name, span in spans.items():
            phases.setdefault(name, []).append(span.total_seconds())
    return {k: round(statistics.median(v) * 1000, 1) for k, v in phases.items()}


# ----- main ------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["connector", "e2e", "both"], default="both")
    parser.add_argument("--sizes", default="10000,1000000", help="customers, comma-separated")
    parser.add_argument("--samples", type=int, default=300, help="sequential connector calls")
    parser.add_argument("--e2e-samples", type=int, default=100, help="sequential requests")
    parser.add_argument("--rounds", type=int, default=20, help="rounds of 20 at once")
    parser.add_argument("--out", type=Path, default=OUT)
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    admin_url = os.environ.get("INNSYN_TEST_PG_ADMIN_URL")
    if not admin_url:
        raise SystemExit("run inside scripts/with-services.sh (INNSYN_TEST_PG_ADMIN_URL)")
    report: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "target": TARGET,
        "data": "crm_bench.sql (5 orders, 3 invoices, 2 notes per customer)",
        "indexes": {
            "from crm_bench.sql": "customers(email) unique, orders/invoices/notes(customer_id)",
            "created by the bench": EXTRA_INDEXES,
        },
        "notes": [
            "connector: SqlConnector.collect alone (4 indexed lookups through server-side "
            "cursors, one pooled connection per call)",
            "e2e: everything a request costs in the service (intake, verification, planning, "
            "task claim, subject decryption, collect, sealing the result, completion) on the "
            "same 2 cores as PostgreSQL and the load generator; breakdown_ms_one_at_a_time "
            "comes from the requests' own timelines",
        ],
        "sizes": {},
    }
    for n in [int(s) for s in args.sizes.split(",")]:
        db = f"crm_bench_{n}"
        print(f"loading {n} customers ...", flush=True)
        entry: dict[str, Any] = {"load_seconds": round(load_crm(admin_url, db, n), 1)}
        crm_url = asyncpg_url(admin_url, db)
        if args.mode in ("connector", "both"):
            entry["connector"] = await connector_level(crm_url, n, args)
            print(f"  connector: {json.dumps(_short(entry['connector']))}", flush=True)
        if args.mode in ("e2e", "both"):
            entry["e2e"] = await end_to_end(admin_url, crm_url, n, args)
            print(f"  e2e: {json.dumps(_short(entry['e2e']))}", flush=True)
        report["sizes"][str(n)] = entry
        psql(admin_url, "-c", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    return report


def _short(result: dict[str, Any]) -> dict[str, Any]:
    return {k: result[k] for k in ("latency_ms", "throughput_rps_at_20")}


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    report = asyncio.run(run(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
