"""``/v1/webhooks``: subscriptions and their delivery log (admin only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.deps import Admin, RuntimeDep, SessionDep
from app.routers.responses import AUTH, problems
from app.schemas.webhooks import (
    DeliveryPage,
    DeliveryView,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookUpdate,
    WebhookUpdated,
    WebhookView,
)
from app.services import webhooks
from app.store.webhooks import DeliveryRepository, SubscriptionRepository

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.post(
    "", status_code=status.HTTP_201_CREATED, summary="Subscribe", responses=problems(*AUTH, 422)
)
async def create_webhook(
    body: WebhookCreate, rt: RuntimeDep, session: SessionDep, admin: Admin
) -> WebhookCreated:
    """Subscribe a URL to events; the signing secret is returned once."""
    subscription, secret = await webhooks.subscribe(
        rt,
        session,
        url=body.url,
        events=body.events,
        description=body.description,
        principal=admin,
    )
    return WebhookCreated(**subscription.model_dump(), secret=secret)


@router.get("", summary="List subscriptions", responses=problems(*AUTH))
async def list_webhooks(session: SessionDep, _admin: Admin) -> WebhookList:
    """All subscriptions (secrets are never shown again)."""
    rows = await SubscriptionRepository(session).every()
    return WebhookList(items=[WebhookView.model_validate(r, from_attributes=True) for r in rows])


@router.patch(
    "/{webhook_id}",
    summary="Pause, resume or rotate the secret",
    responses=problems(*AUTH, 404, 422),
)
async def update_webhook(
    webhook_id: str, body: WebhookUpdate, rt: RuntimeDep, session: SessionDep, admin: Admin
) -> WebhookUpdated:
    """``active: false`` pauses deliveries (they wait), ``true`` resumes them;
    ``rotate_secret: true`` returns a new signing secret, once."""
    subscription, secret = await webhooks.update(
        rt,
        session,
        webhook_id,
        active=body.active,
        rotate_secret=body.rotate_secret,
        principal=admin,
    )
    return WebhookUpdated(**subscription.model_dump(), secret=secret)


@router.delete(
    "/{webhook_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unsubscribe",
    responses=problems(*AUTH, 404),
    response_class=Response,
)
async def delete_webhook(
    webhook_id: str, rt: RuntimeDep, session: SessionDep, admin: Admin
) -> Response:
    """Delete the subscription and its delivery log; nothing more is sent to it."""
    await webhooks.remove(rt, session, webhook_id, principal=admin)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{webhook_id}/deliveries", summary="Delivery log", responses=problems(*AUTH, 404, 422))
async def list_deliveries(
    webhook_id: str,
    session: SessionDep,
    _admin: Admin,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=60)] = None,
) -> DeliveryPage:
    """Every delivery to this subscriber, newest first, with each attempt's outcome."""
    await webhooks.get(session, webhook_id)
    page = await DeliveryRepository(session).of_subscription(webhook_id, limit=limit, cursor=cursor)
    return DeliveryPage(
        items=[DeliveryView.model_validate(r, from_attributes=True) for r in page.items],
        next_cursor=page.next_cursor,
    )
