"""Sending queued webhook deliveries: signed, retried with backoff, every attempt logged.

Several replicas may run this at once: a delivery is claimed through the leased outbox
(``app.store.outbox``), so each attempt is made by one process.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import structlog
from sqlmodel import col, select
from standardwebhooks.webhooks import Webhook

from app.db.models import WebhookDelivery, WebhookSubscription
from app.domain.backoff import Backoff
from app.domain.deliveries import DELIVERIES, DeliveryStatus
from app.domain.errors import InvalidTransition
from app.infra.outbound import Resolver, pinned_client, system_resolver
from app.runtime import Runtime
from app.services.webhooks import check_url, secret_of
from app.store.outbox import LeasedOutbox

log = structlog.get_logger(__name__)

# The Standard Webhooks retry schedule, in seconds after the previous attempt.
RETRY = Backoff((5, 300, 1800, 7200, 18000, 36000, 36000), jitter=0.1)
OUTBOX = LeasedOutbox(
    WebhookDelivery, DeliveryStatus, DELIVERIES, lease=timedelta(seconds=60), backoff=RETRY
)


@dataclass(frozen=True)
class Attempt:
    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def _claim(rt: Runtime, limit: int) -> list[tuple[WebhookDelivery, WebhookSubscription]]:
    ids = await OUTBOX.claim(
        rt.db,
        rt.clock.now(),
        limit=limit,
        join=(WebhookSubscription, col(WebhookSubscription.id) == WebhookDelivery.webhook_id),
        where=[col(WebhookSubscription.active).is_(True)],  # paused: deliveries wait
    )
    if not ids:
        return []
    async with rt.db.session() as session:
        rows = await session.exec(
            select(WebhookDelivery, WebhookSubscription)
            .join(WebhookSubscription, col(WebhookSubscription.id) == WebhookDelivery.webhook_id)
            .where(col(WebhookDelivery.id).in_(ids))
            .order_by(col(WebhookDelivery.next_attempt_at), col(WebhookDelivery.id))
        )
        return [(d, s) for d, s in rows]


async def _send(
    rt: Runtime, client: httpx.AsyncClient, delivery: WebhookDelivery, sub: WebhookSubscription
) -> Attempt:
    body = json.dumps(delivery.payload, separators=(",", ":"))
    headers = signed_headers(secret_of(rt, sub), delivery.id, body, agent="Innsyn-Webhooks/1")
    started = time.monotonic()
    try:
        await check_url(sub.url, allow_private=True, require_https=False)  # the form only
        # The client's transport resolves, checks and pins the address (no second lookup).
        response = await client.post(sub.url, content=body, headers=headers)
        code: int | None = response.status_code
        error = None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        code, error = None, type(exc).__name__
    except Exception as exc:  # noqa: BLE001 - recorded as a failed attempt, never lost
        code, error = None, getattr(exc, "detail", type(exc).__name__)
    return Attempt(code, error, int((time.monotonic() - started) * 1000))


def signed_headers(secret: str, message_id: str, body: str, *, agent: str) -> dict[str, str]:
    """Standard Webhooks headers for ``body``, signed now (wall time: receivers check it
    against their own clocks)."""
    moment = datetime.now(UTC)
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, moment, body),
        "user-agent": agent,
    }


async def _record(rt: Runtime, delivery_id: str, attempt: Attempt) -> None:
    async with rt.db.session() as session:
        delivery = await session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            return
        now = rt.clock.now()
        try:
            OUTBOX.settle(delivery, now, attempt.error if not attempt.ok else None).apply(delivery)
        except InvalidTransition:
            return  # settled elsewhere meanwhile (its lease had run out)
        delivery.last_status_code = attempt.status_code
        delivery.attempt_log = [
            *delivery.attempt_log,
            {
                "at": now.isoformat(),
                "status_code": attempt.status_code,
                "error": attempt.error,
                "duration_ms": attempt.duration_ms,
            },
        ]
        if attempt.ok:
            delivery.delivered_at = now
        session.add(delivery)
    log.info(
        "webhook_attempt",
        delivery_id=delivery_id,
        ok=attempt.ok,
        status_code=attempt.status_code,
    )


async def deliver_due(rt: Runtime, *, limit: int = 50, resolve: Resolver = system_resolver) -> int:
    """Send what is due now; returns the number of attempts made."""
    claimed = await _claim(rt, limit)
    if not claimed:
        return 0
    async with pinned_client(
        allow_private=rt.settings.webhooks_allow_private,
        timeout=rt.settings.webhook_timeout_seconds,
        resolve=resolve,
    ) as client:
        for delivery, subscription in claimed:
            attempt = await _send(rt, client, delivery, subscription)
            await _record(rt, delivery.id, attempt)
    return len(claimed)
