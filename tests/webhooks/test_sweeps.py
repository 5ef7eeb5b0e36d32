"""Housekeeping sweeps: unverified requests close, collected data is purged after the end."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.db.models import CollectedData
from app.services import sweeps


async def test_requests_never_verified_close_after_the_configured_days(
    client, staff, form_key, runtime, clock
):
    body = {"kind": "access", "subject": {"email": "silent@example.no"}}
    waiting = (await client.post("/v1/requests", json=body, headers=form_key)).json()
    attested = (
        await client.post(
            "/v1/requests",
            json=body | {"verification": {"method": "staff", "note": "known"}},
            headers=staff["operator"],
        )
    ).json()
    clock.advance(timedelta(days=runtime.settings.unverified_close_days - 1))
    assert await sweeps.close_unverified(runtime) == 0
    clock.advance(timedelta(days=2))
    assert await sweeps.close_unverified(runtime) == 1
    assert await sweeps.close_unverified(runtime) == 0
    view = (await client.get(f"/v1/requests/{waiting['id']}", headers=staff["auditor"])).json()
    assert view["status"] == "closed_unverified"
    assert view["timeline"][-1]["actor"] == "system:innsyn"
    other = (await client.get(f"/v1/requests/{attested['id']}", headers=staff["auditor"])).json()
    assert other["status"] != "closed_unverified"


async def test_collected_data_is_purged_after_the_request_ends(
    client, staff, form_key, runtime, clock
):
    from app.db.models import Task
    from app.ids import new_id

    body = {"kind": "access", "subject": {"email": "old@example.no"}}
    created = (await client.post("/v1/requests", json=body, headers=form_key)).json()
    now = clock.now()
    async with runtime.db.session() as session:
        task = Task(
            id=new_id("task"),
            request_id=created["id"],
            connector="crm",
            action="collect",
            status="succeeded",
            created_at=now,
            updated_at=now,
            next_attempt_at=now,
        )
        session.add(task)
        await session.flush()
        session.add(
            CollectedData(
                id=new_id("col"),
                request_id=created["id"],
                task_id=task.id,
                connector="crm",
                ciphertext="v1.sealed",
                created_at=now,
            )
        )
    await client.post(f"/v1/requests/{created['id']}/withdraw", json={}, headers=staff["operator"])
    clock.advance(timedelta(days=runtime.settings.purge_after_days - 1))
    assert await sweeps.purge_collected(runtime) == 0
    clock.advance(timedelta(days=2))
    assert await sweeps.purge_collected(runtime) == 1
    async with runtime.db.session() as session:
        left = (await session.exec(select(func.count()).select_from(CollectedData))).one()
    assert left[0] == 0
    view = (await client.get(f"/v1/requests/{created['id']}", headers=staff["auditor"])).json()
    assert view["status"] == "withdrawn"  # the request's facts stay
    assert "data.purged" in [e["action"] for e in view["timeline"]]
