"""Pure rules of the task queue: retry backoff, error classification, the request's state.

Retries must survive a crash, so they cannot be an in-memory sleep: the next attempt's time
is computed here and stored on the task row (``next_attempt_at``), and any worker picks the
task up then. The schedule is stamina's (exponential with additive jitter, capped), so the
in-process retries (database writes, via stamina) and the durable ones behave alike.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable
from dataclasses import dataclass

from app.connectors.errors import ConnectorError, ConnectorTransientError
from app.db.models.tasks import TaskStatus
from app.domain.requests import RequestStatus

OPEN = frozenset({TaskStatus.pending, TaskStatus.running})
NEEDS_STAFF = frozenset({TaskStatus.manual, TaskStatus.failed})
# Waits for the person to prove more (or staff to attest it): someone must act.
NEEDS_PERSON = frozenset({TaskStatus.needs_stronger_identity})
DONE = frozenset({TaskStatus.succeeded, TaskStatus.cancelled, TaskStatus.not_possible})
MAX_ERROR_LENGTH = 500


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff between attempts: ``min(wait_max, wait_initial * exp_base**(n-1) + U(0, jitter))``,
    the formula and parameter names of ``stamina.retry``; a ``retry_after`` the system sent
    is a lower bound."""

    wait_initial: float = 5.0
    wait_max: float = 15 * 60.0
    wait_jitter: float = 5.0
    wait_exp_base: float = 2.0
    retry_after_cap: float = 6 * 3600.0

    def delay(self, failures: int, *, retry_after: float | None = None) -> float:
        """Seconds to wait after the ``failures``-th failed attempt (1-based)."""
        jitter = random.uniform(0, self.wait_jitter) if self.wait_jitter else 0.0
        try:
            base = self.wait_initial * self.wait_exp_base ** (failures - 1)
        except OverflowError:
            base = self.wait_max
        wait = min(self.wait_max, base + jitter)
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.retry_after_cap))
        return max(wait, 0.0)


IMMEDIATE = RetryPolicy(wait_initial=0.0, wait_jitter=0.0)


@dataclass(frozen=True)
class Failure:
    """A classified failure of one attempt; ``message`` is safe to store and show."""

    kind: str  # transient | timeout | permanent | configuration | internal
    message: str
    retryable: bool
    retry_after: float | None = None


def classify(error: BaseException, *, timeout_seconds: float) -> Failure:
    """Turn whatever an attempt raised into a ``Failure``. Unexpected exceptions are retried
    (they are often transient) but only their type is kept: their text may hold personal data."""
    if isinstance(error, ConnectorError):
        retry_after = error.retry_after if isinstance(error, ConnectorTransientError) else None
        return Failure(
            kind=error.kind,
            message=_clip(error.message),
            retryable=error.retryable,
            retry_after=retry_after,
        )
    if isinstance(error, TimeoutError | asyncio.TimeoutError):
        return Failure("timeout", f"no answer within {timeout_seconds:g} s", retryable=True)
    return Failure("internal", f"unexpected {type(error).__name__} in the connector", True)


def _clip(message: str) -> str:
    return message if len(message) <= MAX_ERROR_LENGTH else message[: MAX_ERROR_LENGTH - 1] + "…"


def request_status_for(statuses: Iterable[TaskStatus]) -> RequestStatus:
    """Where a started request stands, given its tasks: work left to do, a person needed
    (a manual task, or a failed one to retry or close by hand), or done."""
    present = set(statuses)
    if present & OPEN:
        return RequestStatus.in_progress
    if present & (NEEDS_STAFF | NEEDS_PERSON):
        return RequestStatus.awaiting_manual
    return RequestStatus.completed
