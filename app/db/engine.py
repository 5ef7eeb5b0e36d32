"""The async engine and session factory, one per process, built from settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import Executable, Row, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import versions  # also installs the view-version listeners
from app.domain.audit import AuditKey
from app.files import private_sqlite


def _prepare_sqlite(engine: AsyncEngine) -> None:
    """WAL, foreign keys and ``BEGIN IMMEDIATE``: SQLite then serialises writers cleanly
    instead of failing one of two transactions that both read before writing."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A read (``Database.read``) takes no write lock: it never waits for a writer.
        read_only = conn.get_execution_options().get(_READ_ONLY, False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


_READ_ONLY = "innsyn_read_only"


_AFTER_COMMIT = "innsyn.after_commit"
_AFTER_ROLLBACK = "innsyn.after_rollback"
Hook = Callable[[], Awaitable[None]]
Defer = Callable[[Coroutine[Any, Any, None]], None]
log = structlog.get_logger(__name__)


def after_commit(session: AsyncSession, key: str, hook: Hook) -> None:
    """Run ``hook`` once the unit of work has committed (once per ``key``)."""
    session.info.setdefault(_AFTER_COMMIT, {}).setdefault(key, hook)


def after_rollback(session: AsyncSession, key: str, hook: Hook) -> None:
    """Run ``hook`` in its own unit of work once this one has rolled back: the record of a
    failed attempt survives the error that follows it."""
    session.info.setdefault(_AFTER_ROLLBACK, {}).setdefault(key, hook)


async def _run_hooks(session: AsyncSession, name: str) -> None:
    hooks: dict[str, Hook] = session.info.pop(name, {})
    session.info.pop(_AFTER_COMMIT, None)
    session.info.pop(_AFTER_ROLLBACK, None)
    for key, hook in hooks.items():
        try:
            await hook()
        except Exception:
            log.error("unit_of_work_hook_failed", hook=key, exc_info=True)


class Database:
    """Owns the engine; ``session()`` yields a transaction that commits or rolls back."""

    def __init__(self, url: str, *, audit_key: AuditKey | None = None, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                private_sqlite(Path(path))
            kwargs["connect_args"] = {"timeout": 30}
        else:
            # No ping on every checkout (a round trip each): a connection the server dropped
            # (a restart) fails the statement that finds it, asyncpg reports it as a
            # disconnect, and the pool then replaces every connection older than that
            # failure. The worker runs that transaction again (``app.jobs.dbretry``);
            # ``read`` does so too.
            kwargs.update(pool_size=20, max_overflow=20, pool_pre_ping=False)
        self.engine: AsyncEngine = create_async_engine(url, **kwargs)
        if self.is_sqlite:
            _prepare_sqlite(self.engine)
            self._reader = self.engine.execution_options(**{_READ_ONLY: True})
        else:  # no BEGIN/COMMIT around a single read
            self._reader = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        # Every session carries the audit key (never stored in the database) for its appends.
        self.sessionmaker = async_sessionmaker(
            self.engine,
            class_=AsyncSession,
            expire_on_commit=False,
            info={"audit_key": audit_key} if audit_key is not None else {},
        )

    @asynccontextmanager
    async def session(self, *, defer: Defer | None = None) -> AsyncIterator[AsyncSession]:
        """One unit of work: commit on success, roll back on any error. What must happen only
        once the outcome is known runs after it, outside the transaction: ``after_commit``
        work (letters leave) or ``after_rollback`` work (a failed attempt is recorded).
        ``defer`` takes the after-commit work instead of running it here (a worker's writer
        goes on with the next write-back while the letters leave)."""
        async with self.sessionmaker() as session:
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                await _run_hooks(session, _AFTER_ROLLBACK)
                raise
        if left := session.info.pop(versions.LEFT_KEY, None):
            async with self.sessionmaker() as bump, bump.begin():
                await versions.raise_left(bump, left)
        if defer is not None and session.info.get(_AFTER_COMMIT):
            defer(_run_hooks(session, _AFTER_COMMIT))
            return
        await _run_hooks(session, _AFTER_COMMIT)

    async def read(self, statement: Executable, params: dict[str, Any]) -> Row[Any] | None:
        """The first row of one read-only statement on a pooled connection, outside any unit
        of work (no session, no transaction on PostgreSQL): for hot reads such as a view's
        version. A connection found dropped is replaced and the read made once more."""
        for attempt in (1, 2):
            try:
                async with self._reader.connect() as conn:
                    return (await conn.execute(statement, params)).first()
            except DBAPIError as exc:
                if attempt == 2 or not exc.connection_invalidated:
                    raise
        raise AssertionError("unreachable")

    async def dispose(self) -> None:
        await self.engine.dispose()
