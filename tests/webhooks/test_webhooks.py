"""Webhooks: signed Standard Webhooks deliveries, retries with a log, deadline alerts once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from app.connectors.testing.server import serve_app
from app.services import deadline_alerts, webhook_delivery
from tests.webhooks.receiver import Receiver


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver()
    with serve_app(receiver.app) as url:
        yield receiver, f"{url}/hook"


async def subscribe(client, staff, url, events=()):
    response = await client.post(
        "/v1/webhooks", json={"url": url, "events": list(events)}, headers=staff["admin"]
    )
    assert response.status_code == 201, response.text
    return response.json()


async def file(client, headers, **extra):
    body = {"kind": "access", "subject": {"email": "hook.person@example.no"}} | extra
    response = await client.post("/v1/requests", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_events_are_signed_and_carry_no_personal_data(
    client, staff, form_key, runtime, receiver
):
    server, url = receiver
    hook = await subscribe(client, staff, url, ["request.received", "request.extended"])
    created = await file(client, form_key)
    await client.post(
        f"/v1/requests/{created['id']}/extend",
        json={"months": 1, "reason": "many systems"},
        headers=staff["approver"],
    )
    assert await webhook_delivery.deliver_due(runtime) == 2
    assert len(server.received) == 2
    verifier = Webhook(hook["secret"])
    types = []
    for message in server.received:
        payload = verifier.verify(message["body"], message["headers"])
        assert set(payload) == {"type", "timestamp", "data"}
        assert payload["data"]["request_id"] == created["id"]
        types.append(payload["type"])
        assert "hook.person" not in message["body"]
    assert types == ["request.received", "request.extended"]
    tampered = dict(server.received[0]["headers"])
    with pytest.raises(Exception, match="(?i)signature"):
        verifier.verify(server.received[0]["body"].replace("access", "erasure"), tampered)


async def test_failed_delivery_is_retried_and_every_attempt_logged(
    client, staff, form_key, runtime, clock, receiver
):
    server, url = receiver
    hook = await subscribe(client, staff, url, ["request.received"])
    server.fail_next = 2
    await file(client, form_key)
    assert await webhook_delivery.deliver_due(runtime) == 1
    assert await webhook_delivery.deliver_due(runtime) == 0  # not due yet: backoff
    clock.advance(timedelta(seconds=6))
    assert await webhook_delivery.deliver_due(runtime) == 1
    clock.advance(timedelta(minutes=6))
    assert await webhook_delivery.deliver_due(runtime) == 1
    log = await client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=staff["admin"])
    delivery = log.json()["items"][0]
    assert delivery["status"] == "delivered"
    assert [a["status_code"] for a in delivery["attempt_log"]] == [503, 503, 204]
    assert len({m["headers"]["webhook-id"] for m in server.received}) == 1  # same message id


async def test_unreachable_receiver_ends_failed_after_the_schedule(
    client, staff, form_key, runtime, clock
):
    hook = await subscribe(client, staff, "http://127.0.0.1:9/nothing", ["request.received"])
    await file(client, form_key)
    for _ in range(webhook_delivery.RETRY.attempts):
        assert await webhook_delivery.deliver_due(runtime) == 1
        clock.advance(timedelta(hours=12))
    assert await webhook_delivery.deliver_due(runtime) == 0
    delivery = (
        await client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=staff["admin"])
    ).json()["items"][0]
    assert delivery["status"] == "failed"
    assert delivery["attempts"] == webhook_delivery.RETRY.attempts
    assert delivery["last_error"] == "ConnectError"


async def test_webhook_urls_are_validated(client, staff, runtime):
    runtime.settings = runtime.settings.model_copy(update={"webhooks_allow_private": False})
    for url in (
        "http://127.0.0.1:8080/hook",
        "http://10.1.2.3/hook",
        "ftp://example.com/x",
        "https://user:pass@example.com/hook",
        "not a url",
    ):
        response = await client.post("/v1/webhooks", json={"url": url}, headers=staff["admin"])
        assert response.status_code == 422, url
        assert "pass" not in response.text
    bad_event = await client.post(
        "/v1/webhooks",
        json={"url": "https://example.com/h", "events": ["request.exploded"]},
        headers=staff["admin"],
    )
    assert bad_event.status_code == 422


async def test_secrets_are_not_listed(client, staff, receiver):
    _server, url = receiver
    hook = await subscribe(client, staff, url)
    listing = await client.get("/v1/webhooks", headers=staff["admin"])
    assert listing.status_code == 200
    assert hook["secret"] not in listing.text
    assert listing.json()["items"][0]["events"]  # empty list subscribes to every event


async def test_deadline_alerts_fire_once_even_with_concurrent_sweeps(
    client, staff, form_key, runtime, clock, receiver
):
    server, url = receiver
    await subscribe(client, staff, url, ["request.due_soon", "request.overdue"])
    created = await file(client, form_key)  # received 2 March 2026, target 2 April
    clock.advance(timedelta(days=20))  # 22 March: nothing yet
    assert await deadline_alerts.fire_due_alerts(runtime) == 0
    clock.advance(timedelta(days=6))  # 28 March: 7 days before the 2 April target
    fired = await asyncio.gather(*(deadline_alerts.fire_due_alerts(runtime) for _ in range(3)))
    assert sum(fired) == 1
    clock.advance(timedelta(days=5))  # 1 April: one day before
    assert await deadline_alerts.fire_due_alerts(runtime) == 1
    assert await deadline_alerts.fire_due_alerts(runtime) == 0
    clock.advance(timedelta(days=7))  # 8 April: past the legal deadline of 7 April
    assert await deadline_alerts.fire_due_alerts(runtime) == 1
    await webhook_delivery.deliver_due(runtime)
    payloads = [json.loads(m["body"]) for m in server.received]
    assert [(p["type"], p["data"]["alert"]) for p in payloads] == [
        ("request.due_soon", "due_in_7d"),
        ("request.due_soon", "due_in_1d"),
        ("request.overdue", "overdue"),
    ]
    assert all(p["data"]["request_id"] == created["id"] for p in payloads)


async def test_no_alerts_for_closed_requests(client, staff, form_key, runtime, clock):
    created = await file(client, form_key)
    await client.post(f"/v1/requests/{created['id']}/withdraw", json={}, headers=staff["operator"])
    clock.advance(timedelta(days=60))
    assert await deadline_alerts.fire_due_alerts(runtime) == 0
