"""Input that is wrong is refused with a clear problem+json, never a 500 and never stored:
dates without a zone, receipt dates out of bounds, unknown subject fields, empty
rectifications, holds on undeclared categories or ending in the past."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.api.test_bad_input import assert_problem, counts
from tests.jobs.systems import MemorySystem, category, registry

VALID = {"kind": "access", "subject": {"email": "ola@example.no"}}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("due_before", "2027-01-01"),
        ("due_before", "2027-01-01T00:00:00"),
        ("updated_since", "2026-11-29"),
        ("updated_since", "2026-11-29T10:00:00"),
        ("updated_since", "0001-01-01T00:00:00+14:00"),
        ("due_before", "yesterday"),
    ],
)
async def test_list_filters_need_a_time_zone(client, staff, name, value):
    response = await client.get("/v1/requests", params={name: value}, headers=staff["auditor"])
    problem = assert_problem(response, 422, "/problems/validation-error")
    assert name in problem["detail"]
    assert "RFC 3339" in problem["detail"] or "out of range" in problem["detail"]


async def test_list_filters_with_a_zone_work(client, staff, clock):
    filed = await client.post("/v1/requests", json=VALID, headers=staff["operator"])
    assert filed.status_code == 201
    later = (clock.now() + timedelta(days=60)).isoformat()
    earlier = (clock.now() - timedelta(days=1)).isoformat().replace("+00:00", "+01:00")
    response = await client.get(
        "/v1/requests",
        params={"due_before": later, "updated_since": earlier},
        headers=staff["auditor"],
    )
    assert response.status_code == 200, response.text
    assert [r["id"] for r in response.json()["items"]] == [filed.json()["id"]]
    none_due = await client.get(
        "/v1/requests", params={"due_before": "2026-03-01T00:00:00Z"}, headers=staff["auditor"]
    )
    assert none_due.json()["items"] == []


@pytest.mark.parametrize(
    "received_at",
    [
        pytest.param("0001-01-01T00:00:00+14:00", id="year-one"),
        pytest.param("1900-01-01T00:00:00Z", id="1900"),
        pytest.param("9999-12-31T23:59:59-14:00", id="year-9999"),
        pytest.param("2026-03-03T09:00:00Z", id="tomorrow"),
        pytest.param("2023-03-01T09:00:00Z", id="beyond-the-horizon"),
    ],
)
async def test_received_at_is_bounded(client, staff, runtime, received_at):
    before = await counts(runtime)
    body = VALID | {"channel": "letter", "received_at": received_at}
    response = await client.post("/v1/requests", json=body, headers=staff["operator"])
    problem = assert_problem(response, 422, "/problems/validation-error")
    assert "received_at" in problem["detail"]
    assert await counts(runtime) == before


async def test_received_at_within_the_horizon_is_accepted(client, staff, clock):
    arrived = clock.now() - timedelta(days=400)
    body = VALID | {"channel": "letter", "received_at": arrived.isoformat()}
    response = await client.post("/v1/requests", json=body, headers=staff["operator"])
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "received"


async def test_the_horizon_is_a_setting(client, staff, runtime, clock):
    runtime.settings.received_at_horizon_days = 30
    body = VALID | {
        "channel": "letter",
        "received_at": (clock.now() - timedelta(days=31)).isoformat(),
    }
    response = await client.post("/v1/requests", json=body, headers=staff["operator"])
    problem = assert_problem(response, 422, "/problems/validation-error")
    assert "30 days" in problem["detail"]


async def test_unknown_subject_fields_are_refused(client, staff, form_key, runtime):
    before = await counts(runtime)
    for headers in (staff["operator"], form_key):
        body = {"kind": "access", "subject": {"email": "ola@example.no", "shoe_size": "44"}}
        response = await client.post("/v1/requests", json=body, headers=headers)
        problem = assert_problem(response, 422, "/problems/validation-error")
        assert "subject.shoe_size" in problem["detail"]
    assert await counts(runtime) == before


async def test_documented_subject_fields_are_kept(client, staff):
    subject = {
        "email": "ola@example.no",
        "phone": "+4741500002",
        "name": "Ola Nordmann",
        "national_id": "30108299920",
        "customer_ids": {"crm": "C-1"},
    }
    response = await client.post(
        "/v1/requests", json={"kind": "access", "subject": subject}, headers=staff["operator"]
    )
    assert response.status_code == 201, response.text
    view = await client.get(f"/v1/requests/{response.json()['id']}", headers=staff["auditor"])
    assert view.json()["subject"]["customer_ids"] == {"crm": "C-1"}


@pytest.mark.parametrize(
    "details",
    [
        pytest.param({}, id="no-details"),
        pytest.param({"changes": {}}, id="empty-changes"),
        pytest.param({"changes": "new address"}, id="changes-not-an-object"),
        pytest.param({"changes": {"address": None}}, id="no-new-value"),
    ],
)
async def test_a_rectification_without_changes_is_refused(client, staff, runtime, details):
    before = await counts(runtime)
    body = {"kind": "rectification", "subject": {"email": "ola@example.no"}, "details": details}
    response = await client.post("/v1/requests", json=body, headers=staff["operator"])
    problem = assert_problem(response, 422, "/problems/validation-error")
    assert "changes" in problem["detail"]
    assert await counts(runtime) == before


async def test_a_rectification_with_changes_is_filed(client, staff):
    body = {
        "kind": "rectification",
        "subject": {"email": "ola@example.no"},
        "details": {"changes": {"address": "Storgata 1, 0155 Oslo"}},
    }
    response = await client.post("/v1/requests", json=body, headers=staff["operator"])
    assert response.status_code == 201, response.text


def hold_body(**extra):
    return {
        "basis_code": "legal_claim",
        "connector": "crm",
        "categories": ["contact"],
        "reason": "Dispute about delivery; lawyer involved",
        "subject": {"email": "ola@example.no"},
        "until": "2027-01-31",
    } | extra


@pytest.fixture
def crm(runtime):
    runtime.connectors = registry(
        MemorySystem("crm", categories=(category("contact"), category("orders"))),
        MemorySystem("billing", categories=(category("invoices"),)),
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(hold_body(categories=["support_notes"]), "categories", id="undeclared"),
        pytest.param(
            hold_body(categories=["contact", "invoices"]), "categories", id="other-system"
        ),
        pytest.param(
            hold_body(connector="*", categories=["paper"]), "categories", id="all-systems"
        ),
        pytest.param(hold_body(until="2026-03-01"), "until", id="ended-yesterday"),
        pytest.param(
            hold_body(basis_code="consumer_complaint", until=None, event_date="2020-01-10"),
            "event_date",
            id="computed-end-passed",
        ),
    ],
)
async def test_a_hold_that_would_keep_nothing_is_refused(client, staff, crm, body, field):
    response = await client.post("/v1/holds", json=body, headers=staff["approver"])
    problem = assert_problem(response, 422, "/problems/validation-error")
    assert problem["field"] == field
    listed = await client.get("/v1/holds", headers=staff["auditor"])
    assert listed.json()["items"] == []


async def test_a_hold_on_declared_categories_is_placed(client, staff, crm):
    for body in (hold_body(until="2026-03-02"), hold_body(connector="*", categories=["invoices"])):
        response = await client.post("/v1/holds", json=body, headers=staff["approver"])
        assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        pytest.param("GET", "/v1/holds?cursor=a%00b", None, id="query"),
        pytest.param("GET", "/v1/requests/req_%00/status?token=x", None, id="path"),
        pytest.param("POST", "/v1/holds", '{"connector": "crm\\u0000"}', id="json-string"),
    ],
)
async def test_a_nul_character_is_refused_not_a_500(client, staff, runtime, method, url, body):
    before = await counts(runtime)
    response = await client.request(
        method,
        url,
        content=body,
        headers=staff["approver"] | {"Content-Type": "application/json"},
    )
    problem = assert_problem(response, 422, "/problems/validation-error")
    assert "NUL" in problem["detail"]
    assert await counts(runtime) == before
