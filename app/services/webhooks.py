"""Webhook subscriptions and the durable outbox of events (Standard Webhooks).

Events are written as delivery rows in the same transaction as the change they announce,
so an event is never lost and never sent for a change that was rolled back.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

import httpx
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import WebhookDelivery, WebhookSubscription
from app.domain.errors import InvalidInput, NotFound
from app.ids import new_id
from app.infra.outbound import BlockedAddress, Resolver, resolve_checked, system_resolver
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


async def check_url(
    url: str, *, allow_private: bool, require_https: bool, resolve: Resolver = system_resolver
) -> None:
    """Refuse URLs that would carry credentials or reach internal addresses (SSRF). Deliveries
    check again, on the address they connect to (``app.infra.outbound``)."""
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
        port = parts.port or (443 if parts.scheme == "https" else 80)
        await resolve_checked(parts.hostname, port, allow_private=False, resolve=resolve)
    except BlockedAddress as exc:
        raise InvalidInput("the webhook URL points to a private address", field="url") from exc
    except (httpx.HTTPError, ValueError) as exc:
        raise InvalidInput("the webhook host does not resolve", field="url") from exc


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
    _forget_subscribers(session)
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
    deliveries = []
    for webhook_id, events in await _subscribers(session):
        if event_type not in events:
            continue
        delivery = WebhookDelivery(
            id=new_id("msg"),
            webhook_id=webhook_id,
            event_type=event_type,
            payload={"type": event_type, "timestamp": _rfc3339(now), "data": data},
            created_at=now,
            next_attempt_at=now,
        )
        session.add(delivery)
        deliveries.append(delivery)
    return deliveries


# The active subscriptions as one transaction saw them: a unit of work that announces several
# events (received, verified, …) reads them once. Changing a subscription drops the copy.
_seen: WeakKeyDictionary[Any, list[tuple[str, list[str]]]] = WeakKeyDictionary()


async def _subscribers(session: AsyncSession) -> list[tuple[str, list[str]]]:
    await session.connection()  # begins the transaction, if it has not begun
    transaction = session.sync_session.get_transaction()
    found = _seen.get(transaction)
    if found is None:
        with session.no_autoflush:  # pending changes are not subscriptions: no flush for them
            rows = await session.exec(
                select(WebhookSubscription.id, WebhookSubscription.events).where(
                    col(WebhookSubscription.active).is_(True)
                )
            )
            found = [(webhook_id, list(events)) for webhook_id, events in rows]
        _seen[transaction] = found
    return found


def _forget_subscribers(session: AsyncSession) -> None:
    _seen.pop(session.sync_session.get_transaction(), None)


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def get(
    session: AsyncSession, webhook_id: str, *, for_update: bool = False
) -> WebhookSubscription:
    subscription = await session.get(WebhookSubscription, webhook_id, with_for_update=for_update)
    if subscription is None:
        raise NotFound(f"no webhook with id {webhook_id}")
    return subscription


async def update(
    rt: Runtime,
    session: AsyncSession,
    webhook_id: str,
    *,
    active: bool | None,
    rotate_secret: bool,
    principal: Principal,
) -> tuple[WebhookSubscription, str | None]:
    """Pause, resume or rotate the secret; returns the subscription and a new secret (shown
    once) when rotated. Queued deliveries wait while paused and are signed with the secret
    current when they are sent."""
    subscription = await get(session, webhook_id, for_update=True)
    changes = []
    if active is not None and active != subscription.active:
        subscription.active = active
        changes.append("webhook.resumed" if active else "webhook.paused")
    secret = None
    if rotate_secret:
        secret = new_secret()
        subscription.secret_ciphertext = rt.cipher.seal(secret, purpose=f"webhook:{webhook_id}")
        changes.append("webhook.secret_rotated")
    session.add(subscription)
    await session.flush()
    _forget_subscribers(session)
    for action in changes:
        await audit.append(
            session,
            at=rt.clock.now(),
            actor=principal.actor,
            action=action,
            detail={"webhook_id": webhook_id},
        )
    return subscription, secret


async def remove(
    rt: Runtime, session: AsyncSession, webhook_id: str, *, principal: Principal
) -> None:
    """Delete the subscription and its delivery log; nothing more is sent to it."""
    subscription = await get(session, webhook_id, for_update=True)
    await session.exec(delete(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == webhook_id))
    await session.delete(subscription)
    await session.flush()
    _forget_subscribers(session)
    await audit.append(
        session,
        at=rt.clock.now(),
        actor=principal.actor,
        action="webhook.deleted",
        detail={"webhook_id": webhook_id},
    )
