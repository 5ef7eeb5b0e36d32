"""The audit trail cannot be quietly cut: each tampering is reported, with where.

The attacker here can write the database (a dump restored with changes, a stolen database
password) but does not have INNSYN_AUDIT_KEY.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlmodel import col, select

from app.db.models import AuditEvent
from app.domain.audit import AuditKey, Checkpoint
from app.services import audit, audit_trail
from tests.security.test_audit_trail import file_and_work

ATTACKER_KEY = AuditKey("the attacker guesses a key of their own, 32+")


async def audit_page(client, staff, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/audit", params=params, headers=staff["auditor"])
    assert response.status_code == 200, response.text
    return response.json()


async def rows(runtime, request_id: str) -> list[dict[str, Any]]:
    async with runtime.db.engine.connect() as conn:
        result = await conn.execute(
            text("SELECT seq, global_seq, action FROM audit_events WHERE stream = :s ORDER BY seq"),
            {"s": request_id},
        )
        return [dict(r._mapping) for r in result]


def problems(findings: list[dict[str, Any]]) -> set[tuple[Any, ...]]:
    return {(f["problem"], f["request_id"], f["seq"]) for f in findings}


async def test_an_untouched_trail_verifies_from_genesis(client, staff, form_key):
    request_id = await file_and_work(client, staff, form_key)
    page = await audit_page(client, staff, request_id=request_id)
    assert page["chain"]["verified"] and page["trail"]["verified"]
    assert page["trail"]["anchor"] == "genesis"
    assert page["trail"]["events_checked"] == page["trail"]["head_global_seq"] > len(page["items"])
    assert [e["global_seq"] for e in page["items"]] == sorted(
        e["global_seq"] for e in page["items"]
    )


async def test_deleting_a_requests_last_event_is_reported(client, staff, form_key, runtime):
    request_id = await file_and_work(client, staff, form_key)
    last = (await rows(runtime, request_id))[-1]
    assert last["action"] == "read.request"  # who saw the data
    other = await file_and_work(client, staff, form_key)  # so the deleted one is not global last
    async with runtime.db.engine.begin() as conn:
        await conn.execute(
            text("DELETE FROM audit_events WHERE stream = :s AND seq = :q"),
            {"s": request_id, "q": last["seq"]},
        )
    page = await audit_page(client, staff, request_id=request_id)
    assert page["chain"]["verified"] is False
    assert ("missing_tail", request_id, last["seq"]) in problems(page["chain"]["findings"])
    assert page["chain"]["broken_at"] == [last["seq"]]
    assert page["trail"]["verified"] is False
    missing = [f for f in page["trail"]["findings"] if f["problem"] == "missing"]
    assert [f["global_seq"] for f in missing] == [last["global_seq"]]
    assert (await audit_page(client, staff, request_id=other))["chain"]["verified"] is True


async def test_deleting_the_newest_event_of_all_is_reported(client, staff, form_key, runtime):
    request_id = await file_and_work(client, staff, form_key)
    last = (await rows(runtime, request_id))[-1]
    async with runtime.db.engine.begin() as conn:
        await conn.execute(
            text("DELETE FROM audit_events WHERE global_seq = :g"), {"g": last["global_seq"]}
        )
    page = await audit_page(client, staff, request_id=request_id)
    assert ("missing_tail", request_id, last["seq"]) in problems(page["chain"]["findings"])
    tail = [f for f in page["trail"]["findings"] if f["problem"] == "missing_tail"]
    assert [f["global_seq"] for f in tail] == [last["global_seq"]]


@pytest.mark.parametrize("heads_too", [False, True])
async def test_deleting_every_event_of_a_request_is_reported(
    client, staff, form_key, runtime, heads_too
):
    request_id = await file_and_work(client, staff, form_key)
    deleted = await rows(runtime, request_id)
    await file_and_work(client, staff, form_key)
    async with runtime.db.engine.begin() as conn:
        await conn.execute(text("DELETE FROM audit_events WHERE stream = :s"), {"s": request_id})
        if heads_too:
            await conn.execute(text("DELETE FROM audit_heads WHERE stream = :s"), {"s": request_id})
    page = await audit_page(client, staff, request_id=request_id)
    assert page["items"] == []
    assert page["chain"]["verified"] is False
    [finding] = page["chain"]["findings"]
    assert (finding["problem"], finding["request_id"]) == ("missing_stream", request_id)
    missing = {f["global_seq"] for f in page["trail"]["findings"] if f["problem"] == "missing"}
    assert missing == {r["global_seq"] for r in deleted}
    # The service's own stream shows the global damage too: an auditor need not guess where.
    assert (await audit_page(client, staff))["trail"]["verified"] is False


async def _rehash_from(runtime, request_id: str, seq: int) -> None:
    """What the attacker does after an edit: recompute every later hash and link (stream and
    global) and the heads, with the only key they have: not ours."""
    async with runtime.db.session() as session:
        events = (await session.exec(select(AuditEvent).order_by(col(AuditEvent.global_seq)))).all()
        first = next(e for e in events if e.stream == request_id and e.seq == seq)
        stream_prev: dict[str, str] = {}
        global_prev = "0" * 64
        for event in events:
            prev = stream_prev.get(event.stream, "0" * 64)
            if event.global_seq >= first.global_seq:
                event.prev_hash, event.global_prev_hash = prev, global_prev
                event.hash = ATTACKER_KEY.event_hash(prev, global_prev, audit.hashed_fields(event))
            stream_prev[event.stream] = global_prev = event.hash
        for stream, digest in [*stream_prev.items(), ("*", global_prev)]:
            await session.exec(  # type: ignore[call-overload]
                text("UPDATE audit_heads SET hash = :h WHERE stream = :s"),
                params={"h": digest, "s": stream},
            )


@pytest.mark.parametrize("rehash", [False, True])
async def test_an_edited_event_is_reported_even_with_later_hashes_recomputed(
    client, staff, form_key, runtime, rehash
):
    request_id = await file_and_work(client, staff, form_key)
    read = next(r for r in await rows(runtime, request_id) if r["action"] == "read.request")
    await file_and_work(client, staff, form_key)
    async with runtime.db.engine.begin() as conn:
        await conn.execute(
            text("UPDATE audit_events SET actor = 'staff:someone-else' WHERE global_seq = :g"),
            {"g": read["global_seq"]},
        )
    if rehash:
        await _rehash_from(runtime, request_id, read["seq"])
    page = await audit_page(client, staff, request_id=request_id)
    assert page["chain"]["verified"] is False
    assert page["chain"]["broken_at"][0] == read["seq"]
    assert ("altered", request_id, read["seq"]) in problems(page["chain"]["findings"])
    altered = [f for f in page["trail"]["findings"] if f["problem"] == "altered"]
    assert altered[0]["global_seq"] == read["global_seq"]
    assert altered[0]["request_id"] == request_id


async def test_a_checkpoint_catches_a_rollback_of_everything_after_it(
    client, staff, form_key, runtime
):
    await file_and_work(client, staff, form_key)
    taken = await client.post("/v1/audit/checkpoints", headers=staff["auditor"])
    assert taken.status_code == 201, taken.text
    checkpoint = taken.json()
    assert checkpoint["checkpoint"].startswith("iac1.")
    request_id = await file_and_work(client, staff, form_key)
    # Cut the trail back to before the checkpoint, heads and checkpoint rows included: what
    # is left is a consistent, correctly keyed trail. Only the copy kept elsewhere knows.
    cut = checkpoint["global_seq"]
    async with runtime.db.session() as session:
        kept = [e for e in await audit.events_for(session, stream="system") if e.global_seq < cut]
    async with runtime.db.engine.begin() as conn:
        await conn.execute(text("DELETE FROM audit_events WHERE global_seq >= :g"), {"g": cut})
        await conn.execute(text("DELETE FROM audit_checkpoints"))
        await conn.execute(text("DELETE FROM audit_heads WHERE stream = :s"), {"s": request_id})
        result = await conn.execute(
            text("SELECT global_seq, hash FROM audit_events ORDER BY global_seq DESC LIMIT 1")
        )
        g, h = result.one()
        await conn.execute(
            text("UPDATE audit_heads SET seq = :g, hash = :h WHERE stream = '*'"), {"g": g, "h": h}
        )
        await conn.execute(
            text("UPDATE audit_heads SET seq = :q, hash = :h WHERE stream = 'system'"),
            {"q": kept[-1].seq, "h": kept[-1].hash},
        )
    assert (await audit_page(client, staff, from_genesis=True))["trail"]["verified"] is True
    page = await audit_page(client, staff, checkpoint=checkpoint["checkpoint"])
    assert page["trail"]["verified"] is False
    assert page["trail"]["anchor"] == "checkpoint"
    [finding] = page["trail"]["findings"]
    assert (finding["problem"], finding["global_seq"]) == ("checkpoint", cut)


async def test_checkpoints_are_listed_and_anchor_later_checks(client, staff, form_key):
    await file_and_work(client, staff, form_key)
    first = (await client.post("/v1/audit/checkpoints", headers=staff["auditor"])).json()
    await file_and_work(client, staff, form_key)
    second = (await client.post("/v1/audit/checkpoints", headers=staff["admin"])).json()
    listed = (await client.get("/v1/audit/checkpoints", headers=staff["auditor"])).json()
    assert [c["id"] for c in listed["items"]] == [second["id"], first["id"]]
    assert second["global_seq"] > first["global_seq"]
    page = await audit_page(client, staff)
    assert page["trail"]["anchor"] == "latest_checkpoint"
    assert page["trail"]["anchor_global_seq"] == second["global_seq"]
    assert page["trail"]["verified"] is True
    system = [e["action"] for e in page["items"]]
    assert system.count("audit.checkpoint") == 2  # taking one is itself on the record


async def test_a_forged_checkpoint_is_refused(client, staff, form_key):
    await file_and_work(client, staff, form_key)
    real = (await client.post("/v1/audit/checkpoints", headers=staff["auditor"])).json()
    forged = ATTACKER_KEY.sign(
        Checkpoint(global_seq=1, hash="0" * 64, at=datetime(2026, 3, 2, tzinfo=UTC), key_id="x")
    )
    for token in (forged, real["checkpoint"][:-4] + "AAAA", "not a checkpoint"):
        response = await client.get(
            "/v1/audit", params={"checkpoint": token}, headers=staff["auditor"]
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"


async def test_only_auditors_take_checkpoints(client, staff, form_key):
    for role in ("operator", "approver"):
        response = await client.post("/v1/audit/checkpoints", headers=staff[role])
        assert response.status_code == 403
    assert (await client.post("/v1/audit/checkpoints", headers=form_key)).status_code == 403
    assert (await client.post("/v1/audit/checkpoints")).status_code == 401


async def test_concurrent_appends_never_fork_the_global_chain(runtime):
    """Many transactions append at once (PostgreSQL: truly at once): one chain, no gaps."""
    at = datetime(2026, 3, 2, tzinfo=UTC)

    async def writer(n: int) -> None:
        async with runtime.db.session() as session:
            for i in range(3):
                await audit.append(
                    session, at=at, actor="system", action=f"w.{i}", request_id=f"req_c{n % 4}"
                )
                await asyncio.sleep(0)
            await audit.append(session, at=at, actor="system", action="w.sys")

    await asyncio.gather(*(writer(n) for n in range(12)))
    async with runtime.db.session() as session:
        trail = await audit_trail.check_trail(session, None, from_genesis=True)
        assert trail.check.findings == []
        assert trail.head_global_seq == trail.check.events == 48
        for stream in ("req_c0", "req_c1", "req_c2", "req_c3", "system"):
            events = await audit.events_for(session, stream=stream)
            check = await audit.check_stream_of(session, stream, events)
            assert check.findings == [], stream
