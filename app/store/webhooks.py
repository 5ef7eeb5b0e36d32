"""Reading webhook subscriptions and their delivery log."""

from __future__ import annotations

from sqlmodel import col

from app.db.models import WebhookDelivery, WebhookSubscription
from app.store.pages import ID, Page
from app.store.repository import RepositoryBase


class SubscriptionRepository(RepositoryBase[WebhookSubscription]):
    model = WebhookSubscription

    async def every(self) -> list[WebhookSubscription]:
        """All subscriptions, oldest first."""
        return list(await self.session.exec(self.select().order_by(col(WebhookSubscription.id))))


class DeliveryRepository(RepositoryBase[WebhookDelivery]):
    model = WebhookDelivery

    async def of_subscription(
        self, webhook_id: str, *, limit: int, cursor: str | None
    ) -> Page[WebhookDelivery]:
        """One subscriber's deliveries, newest first."""
        query = self.select().where(WebhookDelivery.webhook_id == webhook_id)
        return await self.page(query, limit=limit, cursor=cursor, spelling=ID)
