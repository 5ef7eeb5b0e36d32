"""The deadline-alert sweep over 10k, 100k and 1M open requests on PostgreSQL.

Run inside a throwaway PostgreSQL (``make bench-sweep``)::

    bash scripts/with-services.sh .venv/bin/python -m bench.sweep [--sizes 10000 100000 1000000]

Per size, a fresh database holds that many open requests: 10 % overdue and already announced,
``--due`` (50) whose first alert point has just come, the rest due in 9 to 38 days (as a month
of intake leaves them). One tick is ``deadline_alerts.fire_due_alerts`` with the clock frozen;
it is timed ``--repeat`` times with nothing due and with ``--due`` due (the same requests made
due again between ticks). Goal: < 50 ms per tick, growing with the number due, not the number
open. ``--app-dir`` runs another checkout of the service (main's, for the figures before).
Results: ``bench/results/sweep.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "sweep.json"
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def psql(url: str, sql: str) -> None:
    subprocess.run(["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True)


def fill_sql(n: int, due: int, has_next_alert: bool) -> list[str]:
    """Requests by generate_series: overdue and announced, due now, and due later."""
    overdue = n // 10
    later = n - overdue - due
    now = NOW.isoformat()
    cols = (
        "id, kind, status, channel, language, received_at, created_at, updated_at, "
        "target_due_date, legal_due_date, extension_months, effective_due_at, "
        "subject_ciphertext, verification_method, verification_state, status_token_hash, "
        "created_by"
    )
    common = (
        "'access', 'in_progress', 'email', 'nb', ts - interval '30 days', "
        "ts - interval '30 days', ts - interval '1 day', "
        "target, target, 0, target + time '21:59:59', 'x', 'staff', 'verified', 'h', 'bench'"
    )

    def insert(prefix: str, count: int, target: str, next_alert: str) -> str:
        extra_cols = ", next_alert_at" if has_next_alert else ""
        extra_vals = f", {next_alert}" if has_next_alert else ""
        return (
            f"INSERT INTO requests ({cols}{extra_cols}) "
            f"SELECT '{prefix}' || lpad(g::text, 8, '0'), {common}{extra_vals} FROM "
            f"(SELECT g, timestamptz '{now}' AS ts, {target} AS target "
            f"FROM generate_series(1, {count}) g) s"
        )

    return [
        insert("req_o", overdue, f"date '{NOW.date()}' - 10", "NULL"),
        "INSERT INTO deadline_alerts (request_id, alert, fired_at) "
        "SELECT id, a, updated_at FROM requests, unnest(ARRAY['due_in_7d', 'due_in_1d', "
        "'overdue']) a WHERE id LIKE 'req_o%'",
        insert("req_d", due, f"date '{NOW.date()}' + 7", f"timestamptz '{now}' - interval '1 min'"),
        insert(
            "req_l",
            later,
            f"date '{NOW.date()}' + 9 + (g % 30)",
            "(target - 8) + time '21:59:59'",
        ),
        "ANALYZE",
    ]


def make_due_again(has_next_alert: bool) -> list[str]:
    statements = ["DELETE FROM deadline_alerts WHERE request_id LIKE 'req_d%'"]
    if has_next_alert:
        statements.append(
            f"UPDATE requests SET next_alert_at = timestamptz '{NOW.isoformat()}' - "
            "interval '1 min' WHERE id LIKE 'req_d%'"
        )
    return statements


async def measure(admin_url: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    from app.clock import FrozenClock
    from app.db.engine import Database
    from app.db.migrate import upgrade
    from app.domain.audit import AuditKey
    from app.infra.crypto import DataCipher
    from app.infra.mail import Mailer
    from app.runtime import Runtime
    from app.security import StaffTokenVerifier
    from app.services import deadline_alerts
    from app.settings import Settings

    db_name = f"sweep_{n}"
    base = admin_url.rpartition("/")[0]
    psql(admin_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    psql(admin_url, f'CREATE DATABASE "{db_name}"')
    url = f"{base}/{db_name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    await asyncio.to_thread(upgrade, url)
    has_next_alert = (
        "next_alert_at"
        in subprocess.run(
            ["psql", "-qtAX", f"{base}/{db_name}", "-c", r"\d requests"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    started = time.perf_counter()
    for statement in fill_sql(n, args.due, has_next_alert):
        psql(f"{base}/{db_name}", statement)
    fill_seconds = time.perf_counter() - started

    key = base64.urlsafe_b64encode(b"k" * 32).decode()
    audit_key = base64.urlsafe_b64encode(b"a" * 32).decode()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            env="test",
            var_dir=Path(tmp),
            database_url=url,
            data_key=key,  # type: ignore[arg-type]
            audit_key=audit_key,  # type: ignore[arg-type]
            run_workers=False,
            run_scheduler=False,
            _env_file=None,  # type: ignore[call-arg]
        )
        db = Database(url, audit_key=AuditKey(audit_key))
        rt = Runtime(
            settings=settings,
            db=db,
            clock=FrozenClock(NOW),
            cipher=DataCipher(key),
            mailer=Mailer(sender="bench@example.no", smtp_url=None, outbox=Path(tmp)),
            tokens=StaffTokenVerifier(settings),
        )
        try:
            idle_ms, due_ms, fired = [], [], []
            for _ in range(args.repeat):
                for statement in make_due_again(has_next_alert):
                    psql(f"{base}/{db_name}", statement)
                t0 = time.perf_counter()
                if args.profile and not due_ms:
                    fired.append(await _profiled(deadline_alerts.fire_due_alerts(rt), args, n))
                else:
                    fired.append(await deadline_alerts.fire_due_alerts(rt))
                due_ms.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                extra = await deadline_alerts.fire_due_alerts(rt)
                idle_ms.append((time.perf_counter() - t0) * 1000)
                assert extra == 0, f"a second tick fired {extra}"
        finally:
            await db.dispose()
    psql(admin_url, f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
    return {
        "open_requests": n,
        "due_per_tick": args.due,
        "fired_per_tick": statistics.median(fired),
        "tick_ms_with_due": {
            "median": round(statistics.median(due_ms), 1),
            "max": round(max(due_ms), 1),
        },
        "tick_ms_nothing_due": {
            "median": round(statistics.median(idle_ms), 1),
            "max": round(max(idle_ms), 1),
        },
        "repeat": args.repeat,
        "fill_seconds": round(fill_seconds, 1),
    }


async def _profiled(work: Any, args: argparse.Namespace, n: int) -> Any:
    """The first tick with requests due, under pyinstrument (HTML under bench/results/)."""
    from pyinstrument import Profiler

    profiler = Profiler(async_mode="enabled")
    with profiler:
        result = await work
    out = OUT.parent / f"profile-sweep-{args.label}-{n}.html"
    out.write_text(profiler.output_html())
    print(profiler.output_text(show_all=False)[:6000])
    return result


async def main_async(args: argparse.Namespace) -> None:
    admin_url = os.environ["INNSYN_TEST_PG_ADMIN_URL"]
    results = []
    for n in args.sizes:
        result = await measure(admin_url, n, args)
        print(json.dumps(result), flush=True)
        results.append(result)
    target = Path(args.out)
    existing = json.loads(target.read_text()) if target.exists() else {}
    existing[args.label] = {
        "when": datetime.now().astimezone().isoformat(timespec="seconds"),
        "note": "a 2-core machine shared with other work; medians over repeated ticks",
        "goal": "< 50 ms per tick, growing with the number due, not the number open",
        "results": results,
    }
    target.write_text(json.dumps(existing, indent=2) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--due", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--label", default="after")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--app-dir", help="run the service from this checkout (e.g. main's)")
    args = parser.parse_args()
    if args.app_dir:
        sys.path.insert(0, args.app_dir)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
