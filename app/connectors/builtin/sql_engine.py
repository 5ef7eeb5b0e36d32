"""Engines for SQL-backed connectors, and the translation of driver errors into connector errors.

Driver messages can quote row values (``Key (email)=(…) already exists``), so they never reach
a ConnectorError: the message names the operation, the internal message the error class and
SQLSTATE only. The original exception is not chained for the same reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.connectors.errors import (
    ConnectorConfigError,
    ConnectorError,
    ConnectorPermanentError,
    ConnectorTransientError,
)

# SQLSTATE classes and codes (PostgreSQL, also used by most other servers).
_TRANSIENT_CLASSES = ("08", "53", "57", "58")  # connection, resources, operator, system
_TRANSIENT_CODES = {"40001", "40P01", "55P03"}  # serialization failure, deadlock, lock n/a
_CONFIG_CLASSES = ("28", "3D", "3F", "42")  # auth, unknown database/schema, undefined names
_CONFIG_CODES = {"42501"}  # insufficient privilege
_SQLITE_TRANSIENT = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_PROTOCOL")
_SQLITE_CONFIG = ("SQLITE_CANTOPEN", "SQLITE_READONLY", "SQLITE_AUTH", "SQLITE_NOTADB")
_SQLITE_SCHEMA_HINTS = ("no such table", "no such column")

_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}


class EngineOptions(BaseModel):
    """How the connector talks to the database (shared by the SQL-backed connectors)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    url: SecretStr = Field(
        title="Database URL",
        description="SQLAlchemy async URL, e.g. postgresql+asyncpg://user:pw@host/db or "
        "sqlite+aiosqlite:///path.db (postgres:// and sqlite:// are rewritten). Secret: it "
        "may embed a password.",
    )
    db_schema: str | None = Field(
        default=None,
        alias="schema",
        pattern=r"^[A-Za-z_][A-Za-z0-9_$]*$",
        description="Schema the mapped tables live in (PostgreSQL); default: the search path.",
    )
    pool_size: int = Field(default=5, ge=1, le=100)
    statement_timeout_seconds: float = Field(default=30.0, gt=0)
    batch_size: int = Field(default=500, ge=1, le=100_000, description="Rows per fetch")


def _driver_url(raw: str) -> str:
    scheme, sep, rest = raw.partition("://")
    if not sep:
        raise ConnectorConfigError("the database URL is not a URL")
    return f"{_DRIVERS.get(scheme, scheme)}://{rest}"


def build_engine(options: EngineOptions) -> AsyncEngine:
    """A lazily connecting async engine; a bad URL or a missing driver is a config error."""
    try:
        url = make_url(_driver_url(options.url.get_secret_value()))
        # No pre-ping: it costs a round trip per checkout (most of a lookup's latency). A
        # connection the server dropped fails its first statement, which is classified as
        # transient and retried, and SQLAlchemy then replaces the pool's connections.
        kwargs: dict[str, Any] = {"pool_recycle": 1800}
        if url.get_backend_name() == "sqlite":
            kwargs["connect_args"] = {"timeout": options.statement_timeout_seconds}
        else:
            kwargs.update(pool_size=options.pool_size, max_overflow=options.pool_size)
        if url.get_driver_name() == "asyncpg":
            timeout_ms = str(int(options.statement_timeout_seconds * 1000))
            kwargs["connect_args"] = {"server_settings": {"statement_timeout": timeout_ms}}
        engine = create_async_engine(url, **kwargs)
    except (sa_exc.ArgumentError, sa_exc.NoSuchModuleError, sa_exc.InvalidRequestError) as exc:
        raise ConnectorConfigError(
            "the database URL is invalid or names a driver that is not installed",
            internal_message=f"engine: {type(exc).__name__}",
        ) from None
    except ImportError as exc:
        raise ConnectorConfigError(
            "the database driver is not installed", internal_message=f"engine: {exc.name}"
        ) from None
    if url.get_backend_name() == "sqlite":
        _enforce_sqlite_foreign_keys(engine)
    return engine


def _enforce_sqlite_foreign_keys(engine: AsyncEngine) -> None:
    """SQLite checks foreign keys only when asked, per connection: erasure order relies on it."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


def classify(exc: BaseException, action: str) -> ConnectorError:
    """The connector error for a driver or pool failure during ``action`` (e.g. 'collect')."""
    if isinstance(exc, ConnectorError):
        return exc
    name = type(exc).__name__
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | sa_exc.TimeoutError | OSError):
        return ConnectorTransientError(
            f"{action}: the database did not answer", internal_message=f"{action}: {name}"
        )
    if isinstance(exc, sa_exc.NoSuchTableError):
        return ConnectorConfigError(f"{action}: table {exc} does not exist")
    if not isinstance(exc, sa_exc.DBAPIError):
        return ConnectorPermanentError(
            f"{action} failed: {name}", internal_message=f"{action}: {name}"
        )
    orig = exc.orig
    code = str(getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None) or "")
    internal = f"{action}: {name}/{type(orig).__name__} code={code or 'none'}"
    if exc.connection_invalidated or _is_transient(code):
        return ConnectorTransientError(
            f"{action}: the database is busy or unreachable", internal_message=internal
        )
    if _is_config(code, orig):
        return ConnectorConfigError(
            f"{action}: the database refused the configuration (access, database, schema, "
            "table or column names)",
            internal_message=internal,
        )
    if isinstance(exc, sa_exc.OperationalError | sa_exc.InterfaceError) and not code:
        return ConnectorTransientError(
            f"{action}: the database connection failed", internal_message=internal
        )
    return ConnectorPermanentError(
        f"{action}: the database rejected the operation", internal_message=internal
    )


def _is_transient(code: str) -> bool:
    return code in _TRANSIENT_CODES or code.startswith(_TRANSIENT_CLASSES + _SQLITE_TRANSIENT)


def _is_config(code: str, orig: object) -> bool:
    if code in _CONFIG_CODES or code.startswith(_CONFIG_CLASSES + _SQLITE_CONFIG):
        return True
    text = str(orig).lower() if code == "SQLITE_ERROR" else ""
    return any(hint in text for hint in _SQLITE_SCHEMA_HINTS)


@asynccontextmanager
async def mapped_errors(action: str) -> AsyncIterator[None]:
    """Raise driver and pool failures inside the block as classified connector errors."""
    try:
        yield
    except ConnectorError:
        raise
    except (sa_exc.SQLAlchemyError, OSError, TimeoutError) as exc:
        raise classify(exc, action) from None
