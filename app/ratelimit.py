"""Rate limits for the public endpoints (form intake, verification, status page).

Counters live in process memory (moving window, the ``limits`` library): each replica limits
on its own, so the effective limit with N replicas behind a balancer is up to N times higher.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from app.domain.errors import TooManyAttempts


class RateLimiter:
    def __init__(self, *, per_ip_per_minute: int, per_key_per_minute: int) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_ip = RateLimitItemPerMinute(per_ip_per_minute)
        self._per_key = RateLimitItemPerMinute(per_key_per_minute)

    async def hit(self, *, endpoint: str, client_ip: str | None, api_key_id: str | None) -> None:
        """Count one call; raise ``TooManyAttempts`` with a Retry-After when over a limit."""
        checks = []
        if client_ip:
            checks.append((self._per_ip, ("ip", endpoint, client_ip)))
        if api_key_id:
            checks.append((self._per_key, ("key", endpoint, api_key_id)))
        for item, key in checks:
            if not await self._limiter.hit(item, *key):
                stats = await self._limiter.get_window_stats(item, *key)
                retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                raise TooManyAttempts("too many requests; try again later", retry_after)
