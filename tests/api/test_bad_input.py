"""Bad input gets a clear problem+json answer, never a 500, and the database is unchanged."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.db.models import AuditEvent, DsrRequest

VALID = {"kind": "access", "subject": {"email": "ola@example.no"}}


async def counts(runtime) -> tuple[int, int]:
    async with runtime.db.session() as session:
        requests = (await session.exec(select(func.count()).select_from(DsrRequest))).one()
        events = (await session.exec(select(func.count()).select_from(AuditEvent))).one()
    return requests[0], events[0]


def assert_problem(response, status: int, type_: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["type"] == type_
    assert body["title"]
    return body


BAD_BODIES = [
    pytest.param({"kind": "forget_me", "subject": {"email": "a@b.no"}}, id="wrong-kind"),
    pytest.param({"kind": "access"}, id="missing-subject"),
    pytest.param({"kind": "access", "subject": {}}, id="subject-without-identifier"),
    pytest.param({"kind": "access", "subject": {"name": "Only A Name"}}, id="name-only"),
    pytest.param({"kind": "access", "subject": {"email": "not-an-email"}}, id="bad-email"),
    pytest.param({"kind": "access", "subject": {"national_id": "12345678901"}}, id="bad-fnr"),
    pytest.param({"kind": "access", "subject": {"phone": "12"}}, id="bad-phone"),
    pytest.param(VALID | {"language": "de"}, id="bad-language"),
    pytest.param(VALID | {"channel": "pigeon"}, id="bad-channel"),
    pytest.param(VALID | {"received_at": "2026-01-01T10:00:00"}, id="naive-received-at"),
    pytest.param(VALID | {"surprise": 1}, id="unknown-field"),
    pytest.param([VALID], id="array-body"),
]


@pytest.mark.parametrize("body", BAD_BODIES)
async def test_invalid_bodies_are_422_and_store_nothing(client, staff, runtime, body):
    before = await counts(runtime)
    response = await client.post("/v1/requests", json=body, headers=staff["operator"])
    problem = assert_problem(response, 422, "/problems/validation-error")
    assert problem["errors"]
    assert await counts(runtime) == before


async def test_validation_errors_do_not_echo_personal_data(client, staff):
    body = {"kind": "access", "subject": {"email": "kari.secret@", "national_id": "12345678901"}}
    response = await client.post("/v1/requests", json=body, headers=staff["operator"])
    assert response.status_code == 422
    assert "kari.secret" not in response.text
    assert "12345678901" not in response.text


async def test_malformed_json_is_400(client, staff, runtime):
    before = await counts(runtime)
    response = await client.post(
        "/v1/requests",
        content=b'{"kind": "access", "subject": ',
        headers=staff["operator"] | {"Content-Type": "application/json"},
    )
    assert_problem(response, 400, "/problems/malformed-json")
    assert await counts(runtime) == before


async def test_ten_megabyte_body_is_413(client, staff, runtime):
    before = await counts(runtime)
    huge = b'{"kind": "access", "details": {"x": "' + b"a" * 10_000_000 + b'"}}'
    response = await client.post(
        "/v1/requests",
        content=huge,
        headers=staff["operator"] | {"Content-Type": "application/json"},
    )
    assert_problem(response, 413, "/problems/payload-too-large")
    assert await counts(runtime) == before


async def test_streamed_body_without_length_is_also_limited(client, staff):
    async def chunks():
        for _ in range(20):
            yield b"a" * 100_000

    response = await client.post(
        "/v1/requests",
        content=chunks(),
        headers=staff["operator"] | {"Content-Type": "application/json"},
    )
    assert_problem(response, 413, "/problems/payload-too-large")


async def test_unknown_request_id_is_404(client, staff):
    for method, path, role in [
        ("GET", "/v1/requests/req_doesnotexist", "auditor"),
        ("POST", "/v1/requests/req_doesnotexist/withdraw", "operator"),
    ]:
        response = await client.request(method, path, headers=staff[role], json={})
        assert_problem(response, 404, "/problems/not-found")
    status = await client.get("/v1/requests/req_nope/status", params={"token": "x" * 20})
    assert_problem(status, 404, "/problems/not-found")


async def test_unknown_route_and_method_are_problems(client, staff):
    assert_problem(await client.get("/v2/nothing"), 404, "/problems/not-found")
    response = await client.delete("/v1/requests", headers=staff["admin"])
    assert_problem(response, 405, "/problems/method-not-allowed")


async def test_bad_query_parameters_are_422(client, staff):
    headers = staff["operator"]
    for params in (
        {"status": "lost"},
        {"limit": 0},
        {"limit": 1000},
        {"due_before": "soon"},
        {"cursor": "!!!"},
        {"q": "neither-email-nor-id"},
    ):
        response = await client.get("/v1/requests", params=params, headers=headers)
        assert_problem(response, 422, "/problems/validation-error")


async def test_problem_types_are_documented(client):
    response = await client.get("/problems/invalid-transition")
    assert response.status_code == 200
    assert "current state" in response.text
