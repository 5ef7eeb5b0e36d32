"""A 1 GB mailbox exported through the answer link: what the service holds in memory.

Run inside throwaway services (``make bench-export``)::

    bash scripts/with-services.sh .venv/bin/python -m bench.export [--gigabytes 1]
        [--database sqlite|postgresql]

Seeds the Dovecot mailbox of ``scripts/with-services.sh`` over IMAP APPEND with messages to
and from one person, each with a 10 MB attachment of random bytes (base64 on the wire, as
mail clients send them), until the attachments add up to ``--gigabytes``. Then one real
``innsyn serve`` (default settings: in-process workers, SQLite unless told otherwise) with
the ``imap`` connector collects them for a staff-attested access request, and the person
downloads the zip through the answer link of the status page, to a file that is checked.

Peak RSS of the service process is read from ``/proc/<pid>/status`` (``VmHWM``): after the
collection, and, with the peak reset (``/proc/<pid>/clear_refs``), after the download.
Results: ``bench/results/export.json``.
"""

from __future__ import annotations

import argparse
import base64
import imaplib
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import yaml
from pydantic import SecretStr

from bench.crm import _free_port, asyncpg_url, psql
from tests.test_smoke_serve import wait_ready

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "export.json"
PERSON = "ola.nordmann@example.no"
ATTACHMENT = 10_000_000
GOAL_MB = 200.0


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


class Sampler:
    """VmRSS every ``interval`` seconds in a thread: the shape behind the peak."""

    def __init__(self, pid: int, interval: float = 1.0) -> None:
        self.pid, self.interval = pid, interval
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.samples.append(round(status_kb(self.pid, "VmRSS") / 1024, 1))


def reset_peak(pid: int) -> None:
    """VmHWM starts again from the current RSS (Linux: ``5`` to clear_refs)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def imap_account() -> tuple[str, int, str, str]:
    user, password = os.environ["INNSYN_TEST_IMAP_USERS"].split(",")[0].split(":", 1)
    return (
        os.environ["INNSYN_TEST_IMAP_HOST"],
        int(os.environ["INNSYN_TEST_IMAP_PORT"]),
        user,
        password,
    )


def seed(host: str, port: int, user: str, password: str, count: int) -> dict[str, int]:
    """``count`` messages from the person, each with an attachment; name -> CRC-32."""
    crcs: dict[str, int] = {}
    imap = imaplib.IMAP4(host, port)
    imap.login(user, password)
    for n in range(count):
        data = os.urandom(ATTACHMENT)
        name = f"scan-{n:04d}.bin"
        crcs[name] = zlib.crc32(data)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = PERSON, user, f"Scan {n}"
        message.set_content(f"Scan number {n}.")
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
        typ, _ = imap.append("INBOX", None, None, bytes(message))
        assert typ == "OK"
    imap.logout()
    return crcs


def connectors_file(workdir: Path, host: str, port: int, user: str) -> Path:
    entry = {
        "name": "mailbox",
        "kind": "imap",
        "config": {
            "host": host,
            "port": port,
            "security": "none",
            "username": user,
            "password": "${BENCH_IMAP_PASSWORD}",
        },
    }
    path = workdir / "connectors.yaml"
    path.write_text(yaml.safe_dump({"connectors": [entry]}))
    return path


def database_url(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{workdir}/innsyn.db"
    admin = os.environ["INNSYN_TEST_PG_ADMIN_URL"]
    psql(admin, "-c", 'DROP DATABASE IF EXISTS "innsyn_export" WITH (FORCE)')
    psql(admin, "-c", 'CREATE DATABASE "innsyn_export"')
    return asyncpg_url(admin, "innsyn_export")


def token(workdir: Path, signing_key: str) -> str:
    from app.domain.requests import Role
    from app.security import issue_local_token
    from app.settings import Settings

    settings = Settings(
        env="development",
        var_dir=workdir / "var",
        signing_key=SecretStr(signing_key),
        _env_file=None,
    )
    return issue_local_token(settings, subject="bench", roles=[Role.operator])


def collect(base: str, staff: dict[str, str], pid: int) -> tuple[dict[str, Any], float]:
    body = {
        "kind": "access",
        "language": "nb",
        "subject": {"email": PERSON},
        "verification": {"method": "staff", "note": "benchmark"},
    }
    started = time.monotonic()
    created = httpx.post(f"{base}/v1/requests", json=body, headers=staff, timeout=30)
    created.raise_for_status()
    request = created.json()
    while True:
        view = httpx.get(f"{base}/v1/requests/{request['id']}", headers=staff, timeout=30).json()
        if view["status"] == "completed":
            return request, time.monotonic() - started
        failed = [t for t in view["tasks"] if t["status"] == "failed"]
        assert not failed, failed
        status_kb(pid, "VmHWM")  # the process is still there
        time.sleep(1)


def download(base: str, request: dict[str, Any], target: Path) -> tuple[int, float, bool]:
    status = httpx.get(
        f"{base}/v1/requests/{request['id']}/status",
        params={"token": request["status_token"]},
        timeout=30,
    ).json()
    started = time.monotonic()
    size = 0
    with (
        httpx.stream(
            "GET", f"{base}{status['download_url']}", params={"format": "zip"}, timeout=300
        ) as got,
        target.open("wb") as out,
    ):
        got.raise_for_status()
        chunked = "content-length" not in got.headers
        for piece in got.iter_raw():
            size += len(piece)
            out.write(piece)
    return size, time.monotonic() - started, chunked


def check(target: Path, crcs: dict[str, int]) -> int:
    """Every attachment is in the zip, whole (zipfile checks each CRC as it reads)."""
    found = 0
    with zipfile.ZipFile(target) as archive:
        for info in archive.infolist():
            name = info.filename.rsplit("/", 1)[-1]
            if name in crcs:
                assert crcs[name] == info.CRC and info.file_size == ATTACHMENT, name
                assert archive.testzip() is None if found == 0 else True
                found += 1
    assert found == len(crcs), (found, len(crcs))
    return found


def run(args: argparse.Namespace) -> dict[str, Any]:
    host, port, user, password = imap_account()
    count = max(1, round(args.gigabytes * 1e9 / ATTACHMENT))
    print(f"seeding {count} messages of {ATTACHMENT / 1e6:.0f} MB…", flush=True)
    crcs = seed(host, port, user, password, count)
    with tempfile.TemporaryDirectory(prefix="innsyn-export-") as tmp:
        workdir = Path(tmp)
        signing_key = secrets.token_urlsafe(48)
        env = {
            **os.environ,
            "BENCH_IMAP_PASSWORD": password,
            "INNSYN_ENV": "development",
            "INNSYN_VAR_DIR": str(workdir / "var"),
            "INNSYN_DATABASE_URL": database_url(args.database, workdir),
            "INNSYN_CONNECTORS_FILE": str(connectors_file(workdir, host, port, user)),
            "INNSYN_CONNECTORS_STRICT": "true",
            "INNSYN_SIGNING_KEY": signing_key,
            "INNSYN_DATA_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        }
        innsyn = str(Path(sys.executable).parent / "innsyn")
        subprocess.run([innsyn, "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
        api_port = _free_port()
        log = (workdir / "serve.log").open("wb")
        server = subprocess.Popen(
            [innsyn, "serve", "--host", "127.0.0.1", "--port", str(api_port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{api_port}"
            wait_ready(base, server, seconds=60)
            idle_mb = status_kb(server.pid, "VmRSS") / 1024
            staff = {"Authorization": f"Bearer {token(workdir, signing_key)}"}
            print("collecting…", flush=True)
            with Sampler(server.pid, 2.0) as collecting:
                request, collect_s = collect(base, staff, server.pid)
            collect_peak = status_kb(server.pid, "VmHWM") / 1024
            reset_peak(server.pid)
            print("downloading…", flush=True)
            target = workdir / "answer.zip"
            with Sampler(server.pid, 0.5) as downloading:
                size, download_s, chunked = download(base, request, target)
            download_peak = status_kb(server.pid, "VmHWM") / 1024
            files = check(target, crcs)
        finally:
            server.terminate()
            server.wait(timeout=60)
    attachments = count * ATTACHMENT
    return {
        "database": args.database,
        "streamed": f"real IMAP (Dovecot): {count} messages, each a {ATTACHMENT // 10**6} MB "
        "attachment (base64 on the wire) streamed by the imap connector",
        "attachments_bytes": attachments,
        "zip_bytes": size,
        "zip_chunked": chunked,
        "files_checked": files,
        "idle_rss_mb": round(idle_mb, 1),
        "collect_peak_rss_mb": round(collect_peak, 1),
        "download_peak_rss_mb": round(download_peak, 1),
        "collect_rss_samples_mb": collecting.samples,
        "download_rss_samples_mb": downloading.samples,
        "collect_seconds": round(collect_s, 1),
        "download_seconds": round(download_s, 1),
        "collect_mb_per_s": round(attachments / 1e6 / collect_s, 1),
        "download_mb_per_s": round(size / 1e6 / download_s, 1),
        "goal_peak_rss_mb": GOAL_MB,
        "met": max(collect_peak, download_peak) < GOAL_MB,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    result = run(args)
    out = {
        "when": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "note": "peak RSS of the one innsyn serve process (API and workers), from VmHWM",
        **result,
    }
    target = Path(args.out)
    existing = json.loads(target.read_text()) if target.exists() else {}
    existing[args.database] = out
    target.write_text(json.dumps(existing, indent=2) + "\n")
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
