"""Placing, listing, releasing and expiring legal holds through the API."""

from __future__ import annotations

from datetime import timedelta

from app.services import flows


async def erasure(client, staff, email="ola@example.no"):
    response = await client.post(
        "/v1/requests",
        json={"kind": "erasure", "subject": {"email": email}},
        headers=staff["operator"],
    )
    assert response.status_code == 201
    return response.json()


def hold_body(**extra):
    return {
        "basis_code": "legal_claim",
        "connector": "*",
        "categories": ["correspondence"],
        "reason": "Dispute about delivery; lawyer involved",
        "subject": {"email": "ola@example.no"},
        "until": "2027-01-31",
    } | extra


async def test_approver_places_and_releases_a_hold(client, staff, runtime):
    response = await client.post("/v1/holds", json=hold_body(), headers=staff["approver"])
    assert response.status_code == 201, response.text
    hold = response.json()
    assert hold["status"] == "active"
    assert hold["law"] == "GDPR art. 17(3)(e)"
    assert hold["source"] == "staff"
    listed = await client.get("/v1/holds", params={"status": "active"}, headers=staff["auditor"])
    assert [h["id"] for h in listed.json()["items"]] == [hold["id"]]
    assert "ola@example.no" not in listed.text  # the list carries no personal data

    released = await client.post(
        f"/v1/holds/{hold['id']}/release",
        json={"reason": "dispute settled"},
        headers=staff["approver"],
    )
    assert released.status_code == 200
    assert released.json()["status"] == "released"
    # The hold kept nothing back from an erasure the person asked for: it simply ends, and
    # nothing is filed or erased (tests/holds/test_hold_follow_up.py has the other case).
    assert released.json()["follow_up_request_id"] is None
    listed = await client.get("/v1/requests", headers=staff["auditor"])
    assert listed.json()["items"] == []
    again = await client.post(
        f"/v1/holds/{hold['id']}/release", json={"reason": "twice"}, headers=staff["approver"]
    )
    assert again.status_code == 409


async def test_end_is_computed_from_the_catalogue(client, staff):
    body = hold_body(
        basis_code="bookkeeping_primary",
        until=None,
        event_date="2025-03-14",
        categories=["invoices"],
    )
    hold = (await client.post("/v1/holds", json=body, headers=staff["approver"])).json()
    assert hold["until"] == "2030-12-31"  # five years after the end of the financial year 2025


async def test_hold_for_the_person_of_a_request(client, staff):
    request = await erasure(client, staff)
    body = hold_body(subject=None, request_id=request["id"])
    hold = (await client.post("/v1/holds", json=body, headers=staff["approver"])).json()
    assert hold["request_id"] == request["id"]
    view = await client.get(
        "/v1/holds", params={"request_id": request["id"]}, headers=staff["operator"]
    )
    assert len(view.json()["items"]) == 1


async def test_invalid_holds_are_refused(client, staff):
    for body in (
        hold_body(basis_code="because_we_want"),
        hold_body(reason=""),
        hold_body(categories=[]),
        hold_body(subject=None),
        hold_body(until=None),
        hold_body(subject={"national_id": "12345678901"}),
    ):
        response = await client.post("/v1/holds", json=body, headers=staff["approver"])
        assert response.status_code == 422, body
    missing = await client.post(
        "/v1/holds", json=hold_body(subject=None, request_id="req_x"), headers=staff["approver"]
    )
    assert missing.status_code == 404
    operator = await client.post("/v1/holds", json=hold_body(), headers=staff["operator"])
    assert operator.status_code == 403


async def test_holds_expire_by_date(client, staff, runtime, clock):
    until = (clock.now() + timedelta(days=3)).date().isoformat()
    hold = (
        await client.post("/v1/holds", json=hold_body(until=until), headers=staff["approver"])
    ).json()
    clock.advance(timedelta(days=3))
    assert await flows.expire_holds(runtime) == 0  # kept through the last day
    clock.advance(timedelta(days=1))
    assert await flows.expire_holds(runtime) == 1
    listed = (await client.get("/v1/holds", headers=staff["auditor"])).json()["items"]
    assert listed[0]["id"] == hold["id"]
    assert listed[0]["status"] == "expired"
    assert listed[0]["follow_up_request_id"] is None  # it kept nothing back from an erasure


async def test_catalogue_lists_bases_with_sources(client, staff):
    items = (await client.get("/v1/holds/catalogue", headers=staff["auditor"])).json()["items"]
    codes = {i["code"]: i for i in items}
    assert codes["bookkeeping_primary"]["law"].startswith("bokføringsloven § 13")
    assert codes["outstanding_claim"]["gdpr_exemption"] == "GDPR art. 17(3)(e)"
    assert codes["regulatory_registry"]["end_rule"] == "condition"


async def test_a_company_policy_extends_the_catalogue(client, staff, runtime):
    from app.runtime import Runtime
    from app.settings import HoldPolicy, Settings

    settings = Settings(
        env="test",
        signing_key="x" * 32,
        data_key="A" * 43,
        hold_policies=[
            {
                "code": "chat_5y",
                "months": 60,
                "justification": "Documented chat retention policy (Intercom), 2026",
                "nb": "Vi oppbevarer chat i fem år etter vår dokumenterte policy.",
                "en": "We keep chats for five years under our documented policy.",
            }
        ],
        _env_file=None,
    )
    [configured] = settings.hold_policies
    assert isinstance(configured, HoldPolicy)
    built = Runtime.build(settings)
    try:
        runtime.hold_catalogue = built.hold_catalogue  # what the service builds from settings
    finally:
        await built.db.dispose()
    items = (await client.get("/v1/holds/catalogue", headers=staff["auditor"])).json()["items"]
    codes = {i["code"]: i for i in items}
    assert codes["bookkeeping_primary"]["law"].startswith("bokføringsloven § 13")
    assert codes["outstanding_claim"]["gdpr_exemption"] == "GDPR art. 17(3)(e)"
    assert codes["regulatory_registry"]["end_rule"] == "condition"
