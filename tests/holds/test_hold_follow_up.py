"""A hold that ends leads to a follow-up erasure only for a verified erasing request it kept
data back from; a hold staff placed on a person who asked for nothing simply ends."""

from __future__ import annotations

from tests.jobs.systems import MemorySystem, category, registry

EMAIL = "ola@example.no"


def crm() -> MemorySystem:
    system = MemorySystem("crm", categories=[category("contact"), category("support_notes")])
    system.seed(EMAIL, "contact", {"email": EMAIL})
    system.seed(EMAIL, "support_notes", {"note": "called about delivery"})
    return system


def hold_body(**extra):
    return {
        "basis_code": "legal_claim",
        "connector": "crm",
        "categories": ["support_notes"],
        "reason": "Dispute about delivery; lawyer involved",
        "subject": {"email": EMAIL},
        "until": "2027-01-31",
    } | extra


async def place(client, staff, **extra) -> dict:
    response = await client.post("/v1/holds", json=hold_body(**extra), headers=staff["approver"])
    assert response.status_code == 201, response.text
    return response.json()


async def request_ids(client, staff) -> list[str]:
    listed = await client.get("/v1/requests", headers=staff["auditor"])
    return [r["id"] for r in listed.json()["items"]]


async def test_a_staff_hold_on_a_person_who_asked_for_nothing_simply_ends(
    client, staff, runtime, worker
):
    system = crm()
    runtime.connectors = registry(system)
    hold = await place(client, staff)
    hooks = await client.post(
        "/v1/webhooks",
        json={"url": "http://127.0.0.1:9/hook", "events": ["hold.released"]},
        headers=staff["admin"],
    )
    assert hooks.status_code == 201, hooks.text

    released = await client.post(
        f"/v1/holds/{hold['id']}/release", json={"reason": "settled"}, headers=staff["approver"]
    )
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "released"
    assert released.json()["follow_up_request_id"] is None
    await worker.run_until_idle()

    # Nothing was filed, nothing was erased, no letter went out; the end is announced.
    assert await request_ids(client, staff) == []
    assert system.data[EMAIL]["support_notes"] == [{"note": "called about delivery"}]
    assert system.calls.counts.get("erase", 0) == 0
    assert not list(runtime.settings.outbox_dir.glob("*.eml"))
    deliveries = await client.get(
        f"/v1/webhooks/{hooks.json()['id']}/deliveries", headers=staff["admin"]
    )
    assert [d["event_type"] for d in deliveries.json()["items"]] == ["hold.released"]


async def test_a_staff_hold_that_kept_data_from_an_erasure_is_followed_up(
    client, staff, runtime, worker
):
    system = crm()
    runtime.connectors = registry(system)
    hold = await place(client, staff)
    filed = await client.post(
        "/v1/requests",
        json={
            "kind": "erasure",
            "subject": {"email": EMAIL},
            "verification": {"method": "staff", "note": "called back on the number on file"},
        },
        headers=staff["operator"],
    )
    assert filed.status_code == 201, filed.text
    erasure = filed.json()["id"]
    await worker.run_until_idle()
    view = (await client.get(f"/v1/requests/{erasure}", headers=staff["operator"])).json()
    assert view["status"] == "completed"
    assert system.data[EMAIL] == {"support_notes": [{"note": "called about delivery"}]}

    released = await client.post(
        f"/v1/holds/{hold['id']}/release", json={"reason": "settled"}, headers=staff["approver"]
    )
    follow_up = released.json()["follow_up_request_id"]
    assert follow_up is not None
    view = (await client.get(f"/v1/requests/{follow_up}", headers=staff["operator"])).json()
    # What the hold kept, and (asked again, idempotent) what the erasure erased around it.
    assert view["details"]["follow_up"]["categories"] == ["support_notes", "contact"]
    assert view["details"]["follow_up"]["blocked_request_id"] == erasure
    await worker.run_until_idle()
    assert system.data[EMAIL] == {}


async def test_a_hold_found_for_an_access_request_ends_without_an_erasure(
    client, staff, runtime, worker
):
    system = crm()
    runtime.connectors = registry(system)
    filed = await client.post(
        "/v1/requests",
        json={
            "kind": "access",
            "subject": {"email": EMAIL},
            "verification": {"method": "staff", "note": "called back on the number on file"},
        },
        headers=staff["operator"],
    )
    access = filed.json()["id"]
    hold = await place(client, staff, subject=None, request_id=access)
    released = await client.post(
        f"/v1/holds/{hold['id']}/release", json={"reason": "settled"}, headers=staff["approver"]
    )
    assert released.json()["follow_up_request_id"] is None
    assert await request_ids(client, staff) == [access]
