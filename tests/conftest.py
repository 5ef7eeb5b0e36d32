"""Shared fixtures: a real database per backend (SQLite and PostgreSQL), the app, credentials.

``INNSYN_TEST_BACKENDS`` lists the backends to run against (``make test``: both).
PostgreSQL comes from ``INNSYN_TEST_PG_URL`` (a throwaway server started by the test script).
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from app.clock import FrozenClock
from app.db.engine import Database
from app.db.migrate import upgrade
from app.domain.audit import AuditKey
from app.domain.requests import Role
from app.infra.crypto import DataCipher
from app.infra.mail import Mailer
from app.jobs.policy import IMMEDIATE
from app.jobs.runner import Worker
from app.main import create_app
from app.runtime import Runtime
from app.security import StaffTokenVerifier, issue_local_token
from app.settings import Settings

BACKENDS = [b.strip() for b in os.environ.get("INNSYN_TEST_BACKENDS", "sqlite").split(",") if b]
SIGNING_KEY = "test-signing-key-" + "x" * 32
DATA_KEY = base64.urlsafe_b64encode(b"k" * 32).decode()
AUDIT_KEY = base64.urlsafe_b64encode(b"a" * 32).decode()


def _pg_url_for_worker(worker: str) -> str:
    """One database per xdist worker, created on the throwaway server."""
    url = os.environ.get("INNSYN_TEST_PG_URL")
    if not url:
        pytest.fail("PostgreSQL backend requested but INNSYN_TEST_PG_URL is not set")
    if worker in ("", "master"):
        return url
    base, _, name = url.rpartition("/")
    return f"{base}/{name}_{worker}"


async def _ensure_pg_database(url: str) -> None:
    import asyncpg

    base, _, name = url.rpartition("/")
    admin = base.replace("postgresql+asyncpg", "postgresql") + "/postgres"
    conn = await asyncpg.connect(admin)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def worker_id_safe(request: pytest.FixtureRequest) -> str:
    return str(getattr(request.config, "workerinput", {}).get("workerid", "master"))


@pytest.fixture(scope="session")
async def database_url(
    backend: str, worker_id_safe: str, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A migrated, empty database of the backend under test."""
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'innsyn.db'}"
    elif backend == "postgresql":
        url = _pg_url_for_worker(worker_id_safe)
        await _ensure_pg_database(url)
    else:
        pytest.fail(f"unknown backend {backend}")
    await asyncio.to_thread(upgrade, url)  # the real migrations build the schema
    return url


@pytest.fixture(scope="session")
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url, audit_key=AuditKey(AUDIT_KEY))
    yield db
    await db.dispose()


async def truncate_all(db: Database) -> None:
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    async with db.engine.begin() as conn:
        if db.is_sqlite:
            for name in tables:
                await conn.execute(text(f'DELETE FROM "{name}"'))
        else:
            quoted = ", ".join(f'"{n}"' for n in tables)
            await conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        env="test",
        var_dir=tmp_path / "var",
        database_url=database_url,
        signing_key=SIGNING_KEY,  # type: ignore[arg-type]
        data_key=DATA_KEY,  # type: ignore[arg-type]
        audit_key=AUDIT_KEY,  # type: ignore[arg-type]
        run_workers=False,
        run_scheduler=False,
        webhooks_allow_private=True,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
async def runtime(
    settings: Settings, database: Database, clock: FrozenClock
) -> AsyncIterator[Runtime]:
    assert settings.data_key is not None
    rt = Runtime(
        settings=settings,
        db=database,
        clock=clock,
        cipher=DataCipher(settings.data_key.get_secret_value()),
        mailer=Mailer(sender=settings.mail_from, smtp_url=None, outbox=settings.outbox_dir),
        tokens=StaffTokenVerifier(settings),
    )
    yield rt
    await truncate_all(database)


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://innsyn.test") as client:
        yield client


@pytest.fixture
def staff(settings: Settings) -> dict[str, dict[str, str]]:
    """Authorization headers per role: ``staff["operator"]``."""
    headers = {}
    for role in Role:
        token = issue_local_token(settings, subject=f"{role.value}-1", roles=[role])
        headers[role.value] = {"Authorization": f"Bearer {token}"}
    return headers


@pytest.fixture
async def form_key(runtime: Runtime) -> dict[str, str]:
    from app.services import apikeys

    async with runtime.db.session() as session:
        _row, key = await apikeys.create(runtime, session, name="website")
    return {"X-API-Key": key}


@pytest.fixture
def worker(runtime: Runtime) -> Worker:
    """A worker on the test runtime that retries at once (backoff is tested on its own)."""
    return Worker(runtime, policy=IMMEDIATE, poll_seconds=0.05, lease_seconds=30)


@pytest.fixture
def service_env(tmp_path: Path, backend: str, database_url: str, runtime) -> dict[str, str]:
    # ``runtime`` is requested so the shared test database is emptied afterwards.
    url = database_url if backend == "postgresql" else f"sqlite+aiosqlite:///{tmp_path}/smoke.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("INNSYN_")}
    env |= {"INNSYN_VAR_DIR": str(tmp_path / "var"), "INNSYN_DATABASE_URL": url}
    return env
