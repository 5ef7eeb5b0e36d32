"""Filing, viewing and listing requests through the HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.requests import RequestKind

ALICE = {"email": "alice.nordmann@example.no", "name": "Alice Nordmann"}


async def file(client, headers, **body):
    payload = {"kind": "access", "subject": ALICE} | body
    response = await client.post("/v1/requests", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.parametrize("kind", [k.value for k in RequestKind])
async def test_form_files_every_kind(client, form_key, kind):
    details = {"changes": {"address": "Storgata 1"}} if kind == "rectification" else {}
    created = await file(client, form_key, kind=kind, details=details)
    assert created["status"] == "received"
    assert created["verification"] == {"method": "email", "state": "pending", "verified_at": None}
    assert created["status_token"]
    # 2 March 2026 + one month = 2 April (Maundy Thursday) -> Tuesday 7 April after Easter.
    assert created["due_at"].startswith("2026-04-07T21:59:59")


async def test_created_response_has_contract_fields_and_location(client, form_key):
    response = await client.post(
        "/v1/requests", json={"kind": "erasure", "subject": ALICE}, headers=form_key
    )
    body = response.json()
    assert {"id", "status", "received_at", "due_at", "status_token", "verification"} <= set(body)
    assert response.headers["location"] == f"/v1/requests/{body['id']}"


async def test_staff_files_letter_received_earlier_with_attested_identity(client, staff, clock):
    received = clock.now() - timedelta(days=10)
    created = await file(
        client,
        staff["operator"],
        kind="rectification",
        channel="letter",
        received_at=received.isoformat(),
        details={"changes": {"address": "Storgata 1, 0155 Oslo"}},
        verification={"method": "staff", "note": "Called back on the number on file"},
    )
    # No connector configured: nothing was searched, so it waits for staff's statement.
    assert created["status"] == "awaiting_manual"
    assert created["verification"]["method"] == "staff"
    assert created["verification"]["state"] == "verified"
    assert created["received_at"].startswith("2026-02-20T09:00")
    # 20 Feb + 1 month = 20 March 2026, a Friday: the clock started when the letter came.
    assert created["due_at"].startswith("2026-03-20T22:59:59")

    view = (await client.get(f"/v1/requests/{created['id']}", headers=staff["auditor"])).json()
    assert view["channel"] == "letter"
    assert view["details"] == {"changes": {"address": "Storgata 1, 0155 Oslo"}}
    actions = [e["action"] for e in view["timeline"]]
    assert actions[:2] == ["request.received", "request.verify"]
    assert view["timeline"][1]["actor"] == "staff:operator-1"


async def test_view_has_timeline_due_dates_and_etag(client, staff, form_key):
    created = await file(client, form_key)
    response = await client.get(f"/v1/requests/{created['id']}", headers=staff["operator"])
    assert response.status_code == 200
    view = response.json()
    assert view["subject"]["email"] == ALICE["email"]
    assert view["due_at"] == created["due_at"]
    assert view["extended_due_at"] is None
    assert view["tasks"] == [] and view["holds"] == []
    etag = response.headers["etag"]
    again = await client.get(
        f"/v1/requests/{created['id']}", headers=staff["operator"] | {"If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.headers["etag"] == etag
    assert again.content == b""


async def test_etag_changes_when_the_request_changes(client, staff, form_key):
    created = await file(client, form_key)
    url = f"/v1/requests/{created['id']}"
    etag = (await client.get(url, headers=staff["operator"])).headers["etag"]
    await client.post(
        f"{url}/extend",
        json={"months": 1, "reason": "data spread over many systems"},
        headers=staff["approver"],
    )
    response = await client.get(url, headers=staff["operator"] | {"If-None-Match": etag})
    assert response.status_code == 200
    assert response.headers["etag"] != etag


async def test_list_filters_and_cursor_pagination(client, staff, form_key, clock):
    ids = []
    for i, kind in enumerate(["access", "erasure", "access", "objection", "access"]):
        clock.advance(timedelta(minutes=1))
        ids.append(
            (await file(client, form_key, kind=kind, subject={"email": f"p{i}@ex.no"}))["id"]
        )
    headers = staff["operator"]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/requests", params=params, headers=headers)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))

    access = (await client.get("/v1/requests", params={"kind": "access"}, headers=headers)).json()
    assert [i["id"] for i in access["items"]] == [ids[4], ids[2], ids[0]]
    found = (await client.get("/v1/requests", params={"q": "P3@ex.no"}, headers=headers)).json()
    assert [i["id"] for i in found["items"]] == [ids[3]]
    received = await client.get("/v1/requests", params={"status": "received"}, headers=headers)
    assert len(received.json()["items"]) == 5
    none = await client.get("/v1/requests", params={"status": "completed"}, headers=headers)
    assert none.json() == {"items": [], "next_cursor": None}


async def test_list_due_before_overdue_and_updated_since(client, staff, form_key, clock):
    old = await file(
        client, staff["operator"], received_at=(clock.now() - timedelta(days=40)).isoformat()
    )
    fresh = await file(client, form_key)
    headers = staff["operator"]

    overdue = (await client.get("/v1/requests", params={"overdue": "true"}, headers=headers)).json()
    assert [i["id"] for i in overdue["items"]] == [old["id"]]
    assert overdue["items"][0]["overdue"] is True
    on_time = (
        await client.get("/v1/requests", params={"overdue": "false"}, headers=headers)
    ).json()
    assert [i["id"] for i in on_time["items"]] == [fresh["id"]]

    before = (clock.now() + timedelta(days=7)).isoformat()
    due_soon = (
        await client.get("/v1/requests", params={"due_before": before}, headers=headers)
    ).json()
    assert [i["id"] for i in due_soon["items"]] == [old["id"]]

    since = clock.now().isoformat()
    clock.advance(timedelta(minutes=5))
    await client.post(f"/v1/requests/{fresh['id']}/withdraw", json={}, headers=headers)
    changed = (
        await client.get("/v1/requests", params={"updated_since": since}, headers=headers)
    ).json()
    assert [i["id"] for i in changed["items"]] == [fresh["id"]]


async def test_q_by_national_id(client, staff):
    created = await file(
        client, staff["operator"], subject={"national_id": "30108299920", "name": "Kari"}
    )
    headers = staff["operator"]
    found = await client.get("/v1/requests", params={"q": "301082 99920"}, headers=headers)
    assert [i["id"] for i in found.json()["items"]] == [created["id"]]
    assert created["verification"] == {"method": "manual", "state": "pending", "verified_at": None}


async def test_personal_data_is_encrypted_at_rest(client, form_key, runtime):
    from sqlalchemy import text

    await file(client, form_key, subject={"email": "secret.person@example.no", "name": "Secret"})
    async with runtime.db.engine.connect() as conn:
        rows = (await conn.execute(text("SELECT * FROM requests"))).all()
    dump = repr(rows)
    assert "secret.person" not in dump and "Secret" not in dump


async def test_status_page_with_token(client, form_key):
    a = await file(client, form_key)
    b = await file(client, form_key, subject={"email": "bob@example.no"})
    url = f"/v1/requests/{a['id']}/status"
    ok = await client.get(url, params={"token": a["status_token"]})
    assert ok.status_code == 200
    assert ok.json()["status"] == "received"
    assert ok.json()["due_at"] == a["due_at"]
    assert "subject" not in ok.json()
    wrong = await client.get(url, params={"token": b["status_token"]})
    assert wrong.status_code == 403
    assert wrong.headers["content-type"] == "application/problem+json"
    missing = await client.get(url)
    assert missing.status_code == 422


async def test_future_received_at_is_refused_and_nothing_is_stored(client, staff, clock):
    future = (clock.now() + timedelta(hours=1)).isoformat()
    response = await client.post(
        "/v1/requests",
        json={"kind": "access", "subject": ALICE, "received_at": future},
        headers=staff["operator"],
    )
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/validation-error"
    assert "future" in response.json()["detail"]
    listing = await client.get("/v1/requests", headers=staff["operator"])
    assert listing.json()["items"] == []


async def test_form_may_not_backdate_or_attest(client, form_key):
    past = datetime(2026, 2, 1, tzinfo=UTC).isoformat()
    backdated = await client.post(
        "/v1/requests",
        json={"kind": "access", "subject": ALICE, "received_at": past},
        headers=form_key,
    )
    assert backdated.status_code == 403
    attested = await client.post(
        "/v1/requests",
        json={"kind": "access", "subject": ALICE, "verification": {"method": "staff", "note": "x"}},
        headers=form_key,
    )
    assert attested.status_code == 403


async def test_only_operators_attest_identity(client, staff):
    response = await client.post(
        "/v1/requests",
        json={"kind": "access", "subject": ALICE, "verification": {"method": "staff", "note": "x"}},
        headers=staff["approver"],
    )
    assert response.status_code == 403
