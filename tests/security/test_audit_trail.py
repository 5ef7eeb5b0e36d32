"""The audit trail: every change and every staff read, hash-chained, tamper-evident."""

from __future__ import annotations

from sqlalchemy import text


async def file_and_work(client, staff, form_key) -> str:
    created = await client.post(
        "/v1/requests",
        json={"kind": "erasure", "subject": {"email": "ola@example.no"}},
        headers=form_key,
    )
    request_id = created.json()["id"]
    base = f"/v1/requests/{request_id}"
    await client.post(
        f"{base}/extend", json={"months": 1, "reason": "many systems"}, headers=staff["approver"]
    )
    await client.post(
        f"{base}/verification", json={"method": "staff", "note": "known"}, headers=staff["operator"]
    )
    await client.get(base, headers=staff["auditor"])
    return request_id


async def test_events_record_changes_and_reads_and_verify(client, staff, form_key):
    request_id = await file_and_work(client, staff, form_key)
    response = await client.get(
        "/v1/audit", params={"request_id": request_id}, headers=staff["auditor"]
    )
    assert response.status_code == 200
    page = response.json()
    actions = [e["action"] for e in page["items"]]
    assert actions[0] == "request.received"
    assert "request.verify" in actions
    assert "read.request" in actions
    assert "request.extended" in actions
    assert page["chain"] == {
        "verified": True,
        "events": len(actions),
        "broken_at": [],
        "findings": [],
    }
    assert page["trail"]["verified"] is True
    read = next(e for e in page["items"] if e["action"] == "read.request")
    assert read["actor"] == "staff:auditor-1"
    assert "ola@example.no" not in response.text  # audit details carry no personal data


async def test_altered_row_breaks_the_chain(client, staff, form_key, runtime):
    request_id = await file_and_work(client, staff, form_key)
    async with runtime.db.engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE audit_events SET actor = 'staff:someone-else' "
                "WHERE request_id = :r AND action = 'read.request'"
            ),
            {"r": request_id},
        )
    page = (
        await client.get("/v1/audit", params={"request_id": request_id}, headers=staff["auditor"])
    ).json()
    assert page["chain"]["verified"] is False
    tampered = next(e["seq"] for e in page["items"] if e["action"] == "read.request")
    assert tampered in page["chain"]["broken_at"]


async def test_deleted_row_breaks_the_chain(client, staff, form_key, runtime):
    request_id = await file_and_work(client, staff, form_key)
    async with runtime.db.engine.begin() as conn:
        await conn.execute(
            text("DELETE FROM audit_events WHERE request_id = :r AND seq = 2"), {"r": request_id}
        )
    page = (
        await client.get("/v1/audit", params={"request_id": request_id}, headers=staff["auditor"])
    ).json()
    assert page["chain"]["verified"] is False


async def test_paging_through_events(client, staff, form_key):
    request_id = await file_and_work(client, staff, form_key)
    seqs, cursor = [], None
    while True:
        params = {"request_id": request_id, "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/audit", params=params, headers=staff["auditor"])).json()
        seqs += [e["seq"] for e in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) >= 5


async def test_system_stream_records_api_keys(client, staff, form_key):
    page = (await client.get("/v1/audit", headers=staff["auditor"])).json()
    assert page["stream"] == "system"
    assert [e["action"] for e in page["items"]] == ["apikey.created"]
    assert page["chain"]["verified"] is True


async def test_appends_in_one_and_in_later_transactions_keep_one_chain(runtime):
    """A transaction reads a stream's head once; later transactions read it afresh."""
    from datetime import UTC, datetime

    from app.services import audit

    at = datetime(2026, 3, 2, tzinfo=UTC)
    for round_ in range(3):
        async with runtime.db.session() as session:
            for i in range(3):
                await audit.append(session, at=at, actor="system", action=f"a.{round_}.{i}")
                await audit.append(session, at=at, actor="system", action="b", request_id=None)
    async with runtime.db.session() as first:
        await audit.append(first, at=at, actor="system", action="first")
        await first.commit()  # a new transaction begins in the same session
        async with runtime.db.session() as other:
            await audit.append(other, at=at, actor="system", action="other")
        await audit.append(first, at=at, actor="system", action="first.again")
    async with runtime.db.session() as session:
        events = await audit.events_for(session, stream=audit.SYSTEM_STREAM)
        key = audit.key_of(session)
    assert [e.seq for e in events] == list(range(1, 22))
    assert [e.action for e in events[-3:]] == ["first", "other", "first.again"]
    assert audit.verify(key, events) == []


async def test_an_open_unit_of_work_keeps_no_other_from_recording(runtime, backend):
    """Events are chained as their unit of work commits: one still open (a slow write-back)
    does not hold the global chain, so another commits its events meanwhile, first."""
    import asyncio
    from datetime import UTC, datetime

    import pytest

    from app.services import audit

    if backend != "postgresql":
        pytest.skip("SQLite lets one writer in at a time (BEGIN IMMEDIATE) by design")
    at = datetime(2026, 3, 2, tzinfo=UTC)

    async def quick() -> None:
        async with runtime.db.session() as session:
            await audit.append(session, at=at, actor="system", action="quick")

    async with runtime.db.session() as slow:
        await audit.append(slow, at=at, actor="system", action="slow")
        await asyncio.wait_for(quick(), timeout=10)
    async with runtime.db.session() as session:
        events = await audit.events_for(session, stream=audit.SYSTEM_STREAM)
        key = audit.key_of(session)
    assert [e.action for e in events] == ["quick", "slow"]
    assert [e.global_seq for e in events] == sorted(e.global_seq for e in events)
    assert audit.verify(key, events) == []


async def test_what_a_unit_of_work_recorded_shows_in_it_before_the_commit(client, staff, runtime):
    from datetime import UTC, datetime

    from app.services import audit, request_views, requests

    created = await client.post(
        "/v1/requests",
        json={
            "kind": "access",
            "subject": {"email": "kari@example.no"},
            "verification": {"method": "staff", "note": "known customer"},
        },
        headers=staff["operator"],
    )
    request_id = created.json()["id"]
    async with runtime.db.session() as session:
        request = await requests.get(session, request_id)
        await audit.append(
            session,
            at=datetime.now(UTC),
            actor="staff:operator-1",
            action="request.note_added",
            request_id=request_id,
        )
        view = await request_views.staff_view(runtime, session, request)
        assert view.timeline[-1].action == "request.note_added"
        trail = await audit.events_for(session, stream=request_id)
        assert audit.verify(audit.key_of(session), trail) == []
