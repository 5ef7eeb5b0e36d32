"""Art. 18(3): a restriction the person obtained is lifted only after they are told, on the
date they were given."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

from app.connectors.protocol import Capability
from tests.jobs.systems import MemorySystem, registry

EMAIL = "restricted@example.no"


async def restricted(client, staff, worker, subject: dict) -> dict:
    created = await client.post(
        "/v1/requests",
        json={
            "kind": "restriction",
            "language": "en",
            "subject": subject,
            "details": {"grounds": "accuracy contested"},
            "verification": {"method": "staff", "note": "known customer"},
        },
        headers=staff["operator"],
    )
    assert created.status_code == 201, created.text
    await worker.run_until_idle()
    return created.json()


async def lift(client, staff, request_id: str, **body) -> object:
    return await client.post(
        f"/v1/requests/{request_id}/lift-restriction",
        json={"reason": "We checked your address and it is correct."} | body,
        headers=staff["approver"],
    )


def last_letter(settings) -> str:
    files = sorted(Path(settings.outbox_dir).glob("*.eml"))
    return message_from_bytes(files[-1].read_bytes(), policy=policy.default).get_content()


async def test_the_person_is_told_first_and_the_lift_waits_for_the_date(
    client, staff, runtime, worker, settings
):
    crm = MemorySystem("crm")
    runtime.connectors = registry(crm)
    created = await restricted(client, staff, worker, {"email": EMAIL})
    assert crm.restricted == {EMAIL}

    assert (await lift(client, staff, created["id"])).status_code == 200
    letter = last_letter(settings)
    assert "We will lift that restriction on Monday 9 March 2026" in letter  # 7 days' notice
    assert "We checked your address" in letter
    assert "Datatilsynet" in letter
    view = (await client.get(f"/v1/requests/{created['id']}", headers=staff["operator"])).json()
    scheduled = view["outcome"]["restriction_lift"]
    assert scheduled["notified_by"] == "email"
    assert scheduled["effective_at"].startswith("2026-03-09T09:00")
    assert "restriction.lift_notified" in [e["action"] for e in view["timeline"]]

    await worker.run_until_idle()
    assert crm.restricted == {EMAIL}  # not before the date the person was given
    runtime.clock.advance(timedelta(days=7))
    await worker.run_until_idle()
    assert crm.restricted == set()
    lifted = (
        await client.get(f"/v1/requests/{scheduled['request_id']}", headers=staff["operator"])
    ).json()
    assert lifted["status"] == "completed"
    assert lifted["details"] == {
        "lift": True,
        "lifts": created["id"],
        "not_before": scheduled["effective_at"],
    }
    assert (await lift(client, staff, created["id"])).status_code == 409  # once


async def test_lifting_is_refused_where_it_makes_no_sense(client, staff, runtime, worker):
    runtime.connectors = registry(MemorySystem("crm"))
    created = await restricted(client, staff, worker, {"email": EMAIL})
    operator = await client.post(
        f"/v1/requests/{created['id']}/lift-restriction",
        json={"reason": "checked"},
        headers=staff["operator"],
    )
    assert operator.status_code == 403
    too_late = (runtime.clock.now() + timedelta(days=40)).isoformat()
    assert (await lift(client, staff, created["id"], effective_at=too_late)).status_code == 422
    past = (runtime.clock.now() - timedelta(days=1)).isoformat()
    assert (await lift(client, staff, created["id"], effective_at=past)).status_code == 422
    access = await client.post(
        "/v1/requests",
        json={
            "kind": "access",
            "subject": {"email": EMAIL},
            "verification": {"method": "staff", "note": "known"},
        },
        headers=staff["operator"],
    )
    assert (await lift(client, staff, access.json()["id"])).status_code == 409


async def test_without_an_e_mail_staff_say_how_the_person_was_told(client, staff, runtime, worker):
    # The memory system finds people by e-mail only: here no system can restrict.
    runtime.connectors = registry(MemorySystem("crm", capabilities=frozenset({Capability.collect})))
    created = await restricted(client, staff, worker, {"phone": "+4791234567", "name": "P"})
    # No system could restrict: staff state what they did by hand, which completes it.
    statement = "Restricted by hand: the customer file is marked as storage only."
    stated = await client.post(
        f"/v1/requests/{created['id']}/complete",
        json={"statement": statement},
        headers=staff["operator"],
    )
    assert stated.status_code == 200, stated.text
    missing = await lift(client, staff, created["id"], effective_at=runtime.clock.now().isoformat())
    assert missing.status_code == 422
    told = await lift(
        client,
        staff,
        created["id"],
        effective_at=runtime.clock.now().isoformat(),
        informed_otherwise="Letter sent by post on 2 March",
    )
    assert told.status_code == 200, told.text
    view = (await client.get(f"/v1/requests/{created['id']}", headers=staff["operator"])).json()
    assert view["outcome"]["restriction_lift"]["notified_by"] == "otherwise"
