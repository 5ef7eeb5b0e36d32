"""The leased outbox every sender uses (webhook deliveries here; notices and letters share
it): a rolled-back change sends nothing, a change run again sends once, a row is claimed by
one sender at a time, and one out of attempts stays visible as failed. On both databases."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from app.db.models import WebhookDelivery, WebhookSubscription
from app.domain.deliveries import DeliveryStatus
from app.domain.errors import InvalidTransition
from app.ids import new_id
from app.services.webhook_delivery import OUTBOX, RETRY


async def _subscription(runtime: Any, *, active: bool = True) -> str:
    async with runtime.db.session() as session:
        sub = WebhookSubscription(
            id=new_id("wh"),
            url="https://receiver.example/hook",
            events=["request.created"],
            secret_ciphertext="sealed",
            active=active,
            created_at=runtime.clock.now(),
        )
        session.add(sub)
    return sub.id


def _delivery(runtime: Any, webhook_id: str) -> WebhookDelivery:
    now = runtime.clock.now()
    return WebhookDelivery(
        id=new_id("msg"),
        webhook_id=webhook_id,
        event_type="request.created",
        payload={"type": "request.created"},
        created_at=now,
        next_attempt_at=now,
    )


async def _rows(runtime: Any) -> list[WebhookDelivery]:
    async with runtime.db.session() as session:
        return list(await session.exec(select(WebhookDelivery)))


async def _settle(runtime: Any, delivery_id: str, error: str | None) -> str:
    async with runtime.db.session() as session:
        row = await session.get(WebhookDelivery, delivery_id)
        assert row is not None
        OUTBOX.settle(row, runtime.clock.now(), error).apply(row)
        session.add(row)
        return row.status


async def test_a_rolled_back_change_leaves_nothing_to_send(runtime):
    webhook_id = await _subscription(runtime)

    async def change_that_fails() -> None:
        async with runtime.db.session() as session:
            session.add(_delivery(runtime, webhook_id))
            await session.flush()
            raise RuntimeError("the change fails after its delivery was written")

    with pytest.raises(RuntimeError):
        await change_that_fails()
    assert await OUTBOX.claim(runtime.db, runtime.clock.now()) == []
    assert await _rows(runtime) == []


async def test_a_change_run_again_sends_once(runtime, clock):
    """The first run of the transaction fails to commit, the second commits: one row, sent
    once, and never claimed again once sent."""
    webhook_id = await _subscription(runtime)
    for run in range(2):
        try:
            async with runtime.db.session() as session:
                session.add(_delivery(runtime, webhook_id))
                await session.flush()
                if run == 0:
                    raise ConnectionError("connection dropped at commit")
        except ConnectionError:
            continue
    [claimed] = await OUTBOX.claim(runtime.db, clock.now())
    assert await OUTBOX.claim(runtime.db, clock.now()) == []  # leased: nobody else's
    assert await _settle(runtime, claimed, None) == DeliveryStatus.delivered
    clock.advance(timedelta(days=1))
    assert await OUTBOX.claim(runtime.db, clock.now()) == []


async def test_senders_racing_claim_each_row_once(runtime, clock):
    webhook_id = await _subscription(runtime)
    async with runtime.db.session() as session:
        for _ in range(6):
            session.add(_delivery(runtime, webhook_id))
    claims = await asyncio.gather(
        *(OUTBOX.claim(runtime.db, clock.now(), limit=2) for _ in range(5))
    )
    taken = [i for claim in claims for i in claim]
    assert len(taken) == len(set(taken)) == 6


async def test_a_lease_that_runs_out_lets_another_sender_take_it(runtime, clock):
    webhook_id = await _subscription(runtime)
    async with runtime.db.session() as session:
        session.add(_delivery(runtime, webhook_id))
    [first] = await OUTBOX.claim(runtime.db, clock.now())
    clock.advance(OUTBOX.lease + timedelta(seconds=1))  # the first sender died
    assert await OUTBOX.claim(runtime.db, clock.now()) == [first]


async def test_a_paused_subscription_is_not_claimed(runtime, clock):
    webhook_id = await _subscription(runtime, active=False)
    async with runtime.db.session() as session:
        session.add(_delivery(runtime, webhook_id))
    active = WebhookSubscription.active == True  # noqa: E712 - a SQL expression
    join = (WebhookSubscription, WebhookSubscription.id == WebhookDelivery.webhook_id)
    assert await OUTBOX.claim(runtime.db, clock.now(), join=join, where=[active]) == []


async def test_a_row_out_of_attempts_is_visible_as_failed(runtime, clock):
    webhook_id = await _subscription(runtime)
    async with runtime.db.session() as session:
        session.add(_delivery(runtime, webhook_id))
    statuses = []
    for _ in range(RETRY.attempts):
        [claimed] = await OUTBOX.claim(runtime.db, clock.now())
        statuses.append(await _settle(runtime, claimed, "HTTP 503"))
        clock.advance(timedelta(days=1))
    assert statuses == ["pending"] * (RETRY.attempts - 1) + ["failed"]
    [row] = await _rows(runtime)
    assert (row.status, row.attempts, row.last_error) == ("failed", RETRY.attempts, "HTTP 503")
    assert row.lease_expires_at is None
    assert await OUTBOX.claim(runtime.db, clock.now()) == []


async def test_settling_a_row_that_has_left_is_refused(runtime, clock):
    webhook_id = await _subscription(runtime)
    async with runtime.db.session() as session:
        session.add(_delivery(runtime, webhook_id))
    [claimed] = await OUTBOX.claim(runtime.db, clock.now())
    await _settle(runtime, claimed, None)
    with pytest.raises(InvalidTransition):
        await _settle(runtime, claimed, "HTTP 500")
