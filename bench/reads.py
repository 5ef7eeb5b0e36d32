"""What a view costs after 3 and after 3,000 reads of it, 304 and 200, on PostgreSQL.

Run inside a throwaway PostgreSQL (``make bench-reads``)::

    bash scripts/with-services.sh .venv/bin/python -m bench.reads [--app-dir ../main-checkout]

The application runs in-process (ASGI, no network), so the figures are the service's own
time per call: one staff-attested access request, read with ``GET /v1/requests/{id}`` (each
200 is audited as a read), then timed ``--samples`` times with ``If-None-Match`` (304) and
without (200) once it has been read 3 and 3,000 times. Results: ``bench/results/reads.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parents[1] / "bench" / "results" / "reads.json"


async def measure(args: argparse.Namespace) -> list[dict[str, Any]]:
    import httpx
    from sqlalchemy import text

    from app.clock import SystemClock
    from app.db.engine import Database
    from app.db.migrate import upgrade
    from app.domain.audit import AuditKey
    from app.domain.requests import Role
    from app.infra.crypto import DataCipher
    from app.infra.mail import Mailer
    from app.main import create_app
    from app.runtime import Runtime
    from app.security import StaffTokenVerifier, issue_local_token
    from app.settings import Settings

    admin = os.environ["INNSYN_TEST_PG_ADMIN_URL"]
    url = admin.rpartition("/")[0].replace("postgresql://", "postgresql+asyncpg://") + "/reads"
    setup = Database(admin.replace("postgresql://", "postgresql+asyncpg://"))
    async with setup.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("DROP DATABASE IF EXISTS reads WITH (FORCE)"))
        await conn.execute(text("CREATE DATABASE reads"))
    await setup.dispose()
    await asyncio.to_thread(upgrade, url)
    key = base64.urlsafe_b64encode(b"k" * 32).decode()
    audit_key = base64.urlsafe_b64encode(b"a" * 32).decode()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            env="test",
            var_dir=Path(tmp),
            database_url=url,
            signing_key="bench-signing-key-" + "x" * 32,  # type: ignore[arg-type]
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
            clock=SystemClock(),
            cipher=DataCipher(key),
            mailer=Mailer(sender="bench@example.no", smtp_url=None, outbox=Path(tmp)),
            tokens=StaffTokenVerifier(settings),
        )
        token = issue_local_token(settings, subject="bench", roles=[Role.operator])
        headers = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=create_app(runtime=rt))
        async with httpx.AsyncClient(transport=transport, base_url="http://b") as client:
            created = await client.post(
                "/v1/requests",
                json={
                    "kind": "access",
                    "subject": {"email": "ola@example.no"},
                    "verification": {"method": "staff", "note": "bench"},
                },
                headers=headers,
            )
            assert created.status_code == 201, created.text
            path = f"/v1/requests/{created.json()['id']}"
            reads = 0
            for target in (3, 3000):
                while reads < target:
                    assert (await client.get(path, headers=headers)).status_code == 200
                    reads += 1
                tag = (await client.get(path, headers=headers)).headers["etag"]
                timings: dict[str, list[float]] = {"304": [], "200": []}
                for _ in range(args.samples):
                    t0 = time.perf_counter()
                    r = await client.get(path, headers=headers | {"If-None-Match": tag})
                    timings["304"].append(time.perf_counter() - t0)
                    assert r.status_code == 304, r.status_code
                for _ in range(args.samples):
                    t0 = time.perf_counter()
                    assert (await client.get(path, headers=headers)).status_code == 200
                    timings["200"].append(time.perf_counter() - t0)
                reads += args.samples + 1
                async with db.session() as session:
                    plan = await session.execute(
                        text(
                            "EXPLAIN SELECT * FROM audit_events WHERE stream = :s AND "
                            "action NOT LIKE 'read.%' ORDER BY seq"
                        ),
                        {"s": path.rsplit("/", 1)[1]},
                    )
                    timeline_plan = [row[0] for row in plan]
                results.append(
                    {
                        "reads_before": target,
                        "timeline_plan": timeline_plan,
                        "ms_304_median": round(statistics.median(timings["304"]) * 1000, 2),
                        "ms_200_median": round(statistics.median(timings["200"]) * 1000, 2),
                        "samples": args.samples,
                    }
                )
                print(json.dumps(results[-1]), flush=True)
        await db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--label", default="after")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--app-dir", help="run the service from this checkout (e.g. main's)")
    args = parser.parse_args()
    if args.app_dir:
        sys.path.insert(0, args.app_dir)
    results = asyncio.run(measure(args))
    target = Path(args.out)
    existing = json.loads(target.read_text()) if target.exists() else {}
    existing[args.label] = {
        "when": datetime.now().astimezone().isoformat(timespec="seconds"),
        "note": "in-process (ASGI) on PostgreSQL, a 2-core machine shared with other work",
        "results": results,
    }
    target.write_text(json.dumps(existing, indent=2) + "\n")


if __name__ == "__main__":
    main()
