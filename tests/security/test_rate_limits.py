"""Public endpoints are rate-limited per client address and per API key, with Retry-After."""

from __future__ import annotations

from app.ratelimit import RateLimiter

BODY = {"kind": "access", "subject": {"email": "ola@example.no"}}


async def test_status_page_is_limited_per_address(client, form_key, runtime):
    created = (await client.post("/v1/requests", json=BODY, headers=form_key)).json()
    runtime.rate_limiter = RateLimiter(per_ip_per_minute=3, per_key_per_minute=100)
    url = f"/v1/requests/{created['id']}/status"
    answers = [
        (await client.get(url, params={"token": created["status_token"]})).status_code
        for _ in range(4)
    ]
    assert answers == [200, 200, 200, 429]
    limited = await client.get(url, params={"token": created["status_token"]})
    assert limited.headers["content-type"] == "application/problem+json"
    assert 1 <= int(limited.headers["retry-after"]) <= 60


async def test_form_intake_is_limited_per_api_key(client, form_key, runtime):
    runtime.rate_limiter = RateLimiter(per_ip_per_minute=100, per_key_per_minute=2)
    answers = [
        (await client.post("/v1/requests", json=BODY, headers=form_key)).status_code
        for _ in range(3)
    ]
    assert answers == [201, 201, 429]


async def test_staff_are_not_limited(client, staff, runtime):
    runtime.rate_limiter = RateLimiter(per_ip_per_minute=1, per_key_per_minute=1)
    answers = [
        (await client.post("/v1/requests", json=BODY, headers=staff["operator"])).status_code
        for _ in range(3)
    ]
    assert answers == [201, 201, 201]
