"""Webhook subscriptions and the durable outbox of events (Standard Webhooks).

Events are written as delivery rows in the same transaction as the change they announce,
so an event is never lost and never sent for a change that was rolled back.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import secrets
import socket
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import WebhookDelivery, WebhookSubscription
from app.domain.errors import InvalidInput, NotFound
from app.ids import new_id
from app.runtime import Runtime
from app.security import Principal
from app.services import audit

EVENT_TYPES = (
    "request.received",
    "request.verified",
    "request.due_soon",
    "request.overdue",
    "request.extended",
    "request.completed",
    "request.refused",
    "task.failed",
    "hold.placed",
    "hold.released",
)


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def check_url(url: str, *, allow_private: bool, require_https: bool) -> None:
    """Refuse URLs that would carry credentials or reach internal addresses (SSRF)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise InvalidInput("the webhook URL must be an absolute http(s) URL", field="url")
    if require_https and parts.scheme != "https":
        raise InvalidInput("the webhook URL must use https", field="url")
    if parts.username or parts.password:
        raise InvalidInput("the webhook URL must not carry credentials", field="url")
    if allow_private:
        return
    try:
        infos = await asyncio.to_thread(socket.getaddrinfo, parts.hostname, parts.port or 443)
    except OSError as exc:
        raise InvalidInput("the webhook host does not resolve", field="url") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise InvalidInput("the webhook URL points to a private address", field="url")


async def subscribe(
    rt: Runtime,
    session: AsyncSession,
    *,
    url: str,
    events: list[str],
    description: str | None,
    principal: Principal,
) -> tuple[WebhookSubscription, str]:
    """Returns the subscription and its signing secret (shown once)."""
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise InvalidInput(f"unknown event types: {', '.join(unknown)}", field="events")
    await check_url(
        url,
        allow_private=rt.settings.webhooks_allow_private,
        require_https=rt.settings.env == "production",
    )
    secret = new_secret()
    subscription = WebhookSubscription(
        id=new_id("wh"),
        url=url,
        events=sorted(set(events)) or list(EVENT_TYPES),
        description=description,
        secret_ciphertext="",
        created_at=rt.clock.now(),
    )
    subscription.secret_ciphertext = rt.cipher.seal(secret, purpose=f"webhook:{subscription.id}")
    session.add(subscription)
    await session.flush()
    await audit.append(
        session,
        at=subscription.created_at,
        actor=principal.actor,
        action="webhook.created",
        detail={"webhook_id": subscription.id, "events": subscription.events},
    )
    return subscription, secret


def secret_of(rt: Runtime, subscription: WebhookSubscription) -> str:
    secret = rt.cipher.open(subscription.secret_ciphertext, purpose=f"webhook:{subscription.id}")
    assert isinstance(secret, str)
    return secret


async def emit(
    rt: Runtime, session: AsyncSession, event_type: str, data: dict[str, Any]
) -> list[WebhookDelivery]:
    """Queue ``event_type`` for every subscriber. ``data`` holds ids and kinds, never PII."""
    assert event_type in EVENT_TYPES, event_type
    now = rt.clock.now()
    subscribers = await session.exec(
        select(WebhookSubscription).where(col(WebhookSubscription.active).is_(True))
    )
    deliveries = []
    for subscription in subscribers:
        if event_type not in subscription.events:
            continue
        delivery = WebhookDelivery(
            id=new_id("msg"),
            webhook_id=subscription.id,
            event_type=event_type,
            payload={"type": event_type, "timestamp": _rfc3339(now), "data": data},
            created_at=now,
            next_attempt_at=now,
        )
        session.add(delivery)
        deliveries.append(delivery)
    await session.flush()
    return deliveries


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def get(session: AsyncSession, webhook_id: str) -> WebhookSubscription:
    subscription = await session.get(WebhookSubscription, webhook_id)
    if subscription is None:
        raise NotFound(f"no webhook with id {webhook_id}")
    return subscription
