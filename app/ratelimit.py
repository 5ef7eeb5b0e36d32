"""Rate limits for everything a form key or the public can reach.

Three counters, each a moving window (the ``limits`` library):

- per **client** and endpoint: the caller's address, or for a form key the visitor's address
  the form backend passes in ``X-Innsyn-Visitor-IP`` (an IPv6 client counts as its /64);
- per **target** and endpoint: the request in the path, the subject's e-mail on intake (per
  hour), the identifier asked about in a suppression check;
- per **form key**, across endpoints: a ceiling sized for a spike, not for one visitor.

Counters live in process memory: each replica limits on its own, so with N replicas behind a
balancer the effective limits are up to N times higher. Targets are kept only as keyed hashes
(a key made at start-up), so no e-mail address or national id sits in memory in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time

from limits import RateLimitItem, RateLimitItemPerHour, RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from app.domain.errors import TooManyAttempts

# Endpoints whose target is a person rather than a request: counted per hour.
SUBJECT_ENDPOINTS = frozenset({"create"})


def subject_target(email: str | None, national_id: str | None) -> str | None:
    """The person an intake call is about, for the per-subject limit."""
    if email:
        return "email:" + email.strip().lower()
    return "national_id:" + national_id.strip() if national_id else None


class RateLimiter:
    def __init__(
        self,
        *,
        per_ip_per_minute: int,
        per_key_per_minute: int,
        per_target_per_minute: int = 20,
        per_subject_per_hour: int = 5,
    ) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._per_client = RateLimitItemPerMinute(per_ip_per_minute)
        self._per_key = RateLimitItemPerMinute(per_key_per_minute)
        self._per_target = RateLimitItemPerMinute(per_target_per_minute)
        self._per_subject = RateLimitItemPerHour(per_subject_per_hour)
        self._hash_key = secrets.token_bytes(32)

    def _hashed(self, value: str) -> str:
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).hexdigest()[:32]

    async def hit(
        self,
        *,
        endpoint: str,
        client: str | None,
        api_key_id: str | None,
        target: str | None = None,
    ) -> None:
        """Count one call; raise ``TooManyAttempts`` with a Retry-After when over a limit.

        Checked in order (client, target, key) and stopped at the first refusal, so a visitor
        who is refused does not use up the allowance of the target or of the whole form key."""
        checks: list[tuple[RateLimitItem, tuple[str, ...]]] = []
        if client:
            checks.append((self._per_client, ("client", endpoint, client)))
        if target:
            per_target: RateLimitItem = (
                self._per_subject if endpoint in SUBJECT_ENDPOINTS else self._per_target
            )
            checks.append((per_target, ("target", endpoint, self._hashed(target))))
        if api_key_id:
            checks.append((self._per_key, ("key", api_key_id)))
        for item, key in checks:
            if not await self._limiter.hit(item, *key):
                stats = await self._limiter.get_window_stats(item, *key)
                retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                raise TooManyAttempts("too many requests; try again later", retry_after)
