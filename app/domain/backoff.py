"""Retry schedules of the outboxes: how long to wait after each failed attempt, and when to
give up. A schedule is a table of steps, so the law of each channel (Standard Webhooks'
schedule for webhooks) is written down as it is, and the last step says when a row fails."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Backoff:
    """``steps[n-1]`` seconds after the ``n``-th failed attempt, spread by ``±jitter``
    (a fraction), so many rows failing together do not come back together. After
    ``len(steps) + 1`` failed attempts there is no next one."""

    steps: tuple[float, ...]
    jitter: float = 0.0

    @property
    def attempts(self) -> int:
        """How many attempts a row gets in all."""
        return len(self.steps) + 1

    def after(self, failures: int, now: datetime) -> datetime | None:
        """When to try again after the ``failures``-th failed attempt (1-based), or None
        when the row is out of attempts."""
        if failures < 1 or failures > len(self.steps):
            return None
        spread = random.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else 1.0
        return now + timedelta(seconds=self.steps[failures - 1] * spread)


def doubling(initial: float, cap: float, attempts: int, *, jitter: float = 0.0) -> Backoff:
    """``initial``, twice that, … at most ``cap``: ``attempts`` in all."""
    return Backoff(tuple(min(cap, initial * 2**n) for n in range(attempts - 1)), jitter)
