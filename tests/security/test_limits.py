"""Every endpoint a form key or the public reaches is limited per client and per target; a
form key is limited per visitor (X-Innsyn-Visitor-IP), not per backend address, under a
per-key ceiling."""

from __future__ import annotations

import itertools

import pytest

from app.ratelimit import RateLimiter

VISITOR = "X-Innsyn-Visitor-IP"
_emails = itertools.count()


def body(email: str | None = None) -> dict[str, object]:
    return {"kind": "access", "subject": {"email": email or f"person{next(_emails)}@example.no"}}


def limiter(**overrides: int) -> RateLimiter:
    values = {
        "per_ip_per_minute": 100,
        "per_key_per_minute": 1000,
        "per_target_per_minute": 100,
        "per_subject_per_hour": 100,
    } | overrides
    return RateLimiter(**values)


async def filed(client, form_key) -> dict[str, str]:
    response = await client.post("/v1/requests", json=body(), headers=form_key)
    assert response.status_code == 201, response.text
    return dict(response.json())


def assert_limited(response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) >= 1


async def test_report_is_limited_per_request(client, form_key, runtime):
    created = await filed(client, form_key)
    runtime.rate_limiter = limiter(per_target_per_minute=3)
    url = f"/v1/requests/{created['id']}/report"
    answers = [await client.get(url, params={"token": created["status_token"]}) for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [409, 409, 409]  # not ready yet
    assert_limited(answers[3])


async def test_report_is_limited_per_client_across_requests(client, form_key, runtime):
    first, second = await filed(client, form_key), await filed(client, form_key)
    runtime.rate_limiter = limiter(per_ip_per_minute=2)
    for created in (first, second):
        url = f"/v1/requests/{created['id']}/report"
        assert (await client.get(url, params={"token": "x" * 32})).status_code == 403
    assert_limited(
        await client.get(f"/v1/requests/{first['id']}/report", params={"token": "x" * 32})
    )


async def test_withdraw_is_limited_per_request(client, form_key, runtime):
    created = await filed(client, form_key)
    runtime.rate_limiter = limiter(per_target_per_minute=2)
    url = f"/v1/requests/{created['id']}/withdraw"
    guesses = [(await client.post(url, params={"token": "y" * 32})).status_code for _ in range(2)]
    assert guesses == [403, 403]
    assert_limited(await client.post(url, params={"token": created["status_token"]}))


async def test_status_is_limited_per_request_whoever_asks(client, form_key, runtime):
    created = await filed(client, form_key)
    runtime.rate_limiter = limiter(per_target_per_minute=2)
    url = f"/v1/requests/{created['id']}/status"
    params = {"token": created["status_token"]}
    assert (await client.get(url, params=params)).status_code == 200
    visitor = {**form_key, VISITOR: "198.51.100.7"}
    assert (await client.get(url, params=params, headers=visitor)).status_code == 200
    assert_limited(await client.get(url, params=params, headers={**form_key, VISITOR: "::1"}))


async def test_verification_is_limited_per_request_across_visitors(client, form_key, runtime):
    created = await filed(client, form_key)
    runtime.rate_limiter = limiter(per_target_per_minute=2)
    url = f"/v1/requests/{created['id']}/verification"
    for n in range(2):
        headers = {**form_key, VISITOR: f"203.0.113.{n}"}
        assert (await client.post(url, json={"code": "000001"}, headers=headers)).status_code in (
            200,
            422,
        )
    headers = {**form_key, VISITOR: "203.0.113.9"}
    assert_limited(await client.post(url, json={"code": "000002"}, headers=headers))


async def test_suppression_check_is_limited_per_client(client, form_key, runtime):
    runtime.rate_limiter = limiter(per_ip_per_minute=3)
    url = "/v1/suppression/check"
    answers = [
        (await client.post(url, json={"national_id": nid}, headers=form_key)).status_code
        for nid in ("30108299920", "02013299997", "15857510027")
    ]
    assert answers == [200, 200, 200]
    assert_limited(await client.post(url, json={"national_id": "04889110150"}, headers=form_key))


async def test_suppression_check_is_limited_per_identifier(client, form_key, runtime):
    runtime.rate_limiter = limiter(per_target_per_minute=2)
    url = "/v1/suppression/check"
    for n in range(2):
        headers = {**form_key, VISITOR: f"192.0.2.{n}"}
        response = await client.post(url, json={"email": "kari@example.no"}, headers=headers)
        assert response.status_code == 200
    headers = {**form_key, VISITOR: "192.0.2.99"}
    assert_limited(await client.post(url, json={"email": "kari@example.no"}, headers=headers))


async def test_form_key_is_limited_per_visitor_not_per_backend(client, form_key, runtime):
    runtime.rate_limiter = limiter(per_ip_per_minute=2)
    kari = {**form_key, VISITOR: "198.51.100.1"}
    ola = {**form_key, VISITOR: "198.51.100.2"}
    assert (await client.post("/v1/requests", json=body(), headers=kari)).status_code == 201
    assert (await client.post("/v1/requests", json=body(), headers=kari)).status_code == 201
    assert_limited(await client.post("/v1/requests", json=body(), headers=kari))
    # The same backend address, another visitor: a busy form is not throttled as one client.
    assert (await client.post("/v1/requests", json=body(), headers=ola)).status_code == 201


async def test_a_spike_of_visitors_fits_under_the_default_key_ceiling(client, form_key, runtime):
    """A breach in the news: hundreds of people in a few minutes, one form backend."""
    settings = runtime.settings
    runtime.rate_limiter = RateLimiter(
        per_ip_per_minute=settings.rate_limit_per_ip_per_minute,
        per_key_per_minute=settings.rate_limit_per_key_per_minute,
        per_target_per_minute=settings.rate_limit_per_target_per_minute,
        per_subject_per_hour=settings.rate_limit_per_subject_per_hour,
    )
    for n in range(200):
        headers = {**form_key, VISITOR: f"10.{n // 250}.{n % 250}.1"}
        response = await client.post("/v1/requests", json=body(), headers=headers)
        assert response.status_code == 201, (n, response.text)


async def test_per_key_ceiling_holds_across_visitors(client, form_key, runtime):
    runtime.rate_limiter = limiter(per_key_per_minute=3)
    for n in range(3):
        headers = {**form_key, VISITOR: f"198.51.100.{n}"}
        assert (await client.post("/v1/requests", json=body(), headers=headers)).status_code == 201
    headers = {**form_key, VISITOR: "198.51.100.50"}
    assert_limited(await client.post("/v1/requests", json=body(), headers=headers))


async def test_intake_is_limited_per_subject_email(client, form_key, runtime):
    runtime.rate_limiter = limiter(per_subject_per_hour=2)
    spellings = ("kari@example.no", "Kari@Example.no", "KARI@example.no")
    answers = []
    for n, email in enumerate(spellings):
        headers = {**form_key, VISITOR: f"198.51.100.{n}"}
        answers.append(await client.post("/v1/requests", json=body(email), headers=headers))
    assert [a.status_code for a in answers[:2]] == [201, 201]
    assert_limited(answers[2])


async def test_ipv6_visitors_count_per_64(client, form_key, runtime):
    runtime.rate_limiter = limiter(per_ip_per_minute=2)
    for suffix in ("1", "2"):
        headers = {**form_key, VISITOR: f"2001:db8:1:2::{suffix}"}
        assert (await client.post("/v1/requests", json=body(), headers=headers)).status_code == 201
    headers = {**form_key, VISITOR: "2001:db8:1:2:ffff::3"}
    assert_limited(await client.post("/v1/requests", json=body(), headers=headers))
    other = {**form_key, VISITOR: "2001:db8:1:3::1"}
    assert (await client.post("/v1/requests", json=body(), headers=other)).status_code == 201


async def test_visitor_header_is_ignored_without_a_form_key(client, form_key, runtime):
    created = await filed(client, form_key)
    runtime.rate_limiter = limiter(per_ip_per_minute=2)
    url = f"/v1/requests/{created['id']}/status"
    params = {"token": created["status_token"]}
    for n in range(2):
        response = await client.get(url, params=params, headers={VISITOR: f"192.0.2.{n}"})
        assert response.status_code == 200
    assert_limited(await client.get(url, params=params, headers={VISITOR: "192.0.2.77"}))


@pytest.mark.parametrize("value", ["not-an-address", "198.51.100.1, 10.0.0.1"])
async def test_a_malformed_visitor_header_is_422(client, form_key, runtime, value):
    runtime.rate_limiter = limiter()
    headers = {**form_key, VISITOR: value}
    response = await client.post("/v1/requests", json=body(), headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert value not in response.text
