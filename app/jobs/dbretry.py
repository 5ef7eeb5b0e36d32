"""In-process retries of the worker's own database writes (stamina), for blips that a second
try fixes: a dropped connection, a serialisation failure, a deadlock victim, a busy SQLite."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

import stamina
from sqlalchemy.exc import DBAPIError, OperationalError

P = ParamSpec("P")
T = TypeVar("T")
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57P01", "08006", "08003"})


def transient_db_error(error: Exception) -> bool:
    """True when running the same transaction again can succeed."""
    if isinstance(error, OperationalError | ConnectionError):
        return True
    if isinstance(error, DBAPIError):
        if error.connection_invalidated:
            return True
        state = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
        return state in RETRYABLE_SQLSTATES
    return False


async def retrying(fn: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run ``fn`` (one whole transaction) again on transient database errors, with stamina's
    jittered exponential backoff, for at most 30 s (well within a task lease)."""
    async for attempt in stamina.retry_context(
        on=transient_db_error, attempts=6, timeout=30.0, wait_initial=0.05, wait_max=3.0
    ):
        with attempt:
            return await fn(*args, **kwargs)
    raise AssertionError("unreachable: stamina re-raises the last error")
