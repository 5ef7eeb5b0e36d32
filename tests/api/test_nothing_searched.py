"""Nothing searched, nothing completed: a verified request whose plan has no task (no
connector configured, none reaching what it asks for) or whose every system was left out
waits for staff, who complete it with a statement that goes into the outcome and the letter."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path

from tests.jobs.systems import MemorySystem, instance, registry

EMAIL = "ola.nordmann@example.no"
STATEMENT = (
    "We hold no data about you: no system is connected yet, and we checked the CRM and the "
    "paper archive by hand on 2 March."
)


def letters_to(settings) -> list[str]:
    return [
        message_from_bytes(p.read_bytes(), policy=policy.default).get_content()
        for p in sorted(Path(settings.outbox_dir).glob("*.eml"))
    ]


async def file(client, staff, kind="access", **subject) -> str:
    response = await client.post(
        "/v1/requests",
        json={
            "kind": kind,
            "language": "en",
            "subject": {"email": EMAIL, **subject},
            "verification": {"method": "staff", "note": "called back", "checked": ["email"]},
        },
        headers=staff["operator"],
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def view(client, staff, request_id: str) -> dict:
    return (await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])).json()


async def test_without_connectors_a_request_waits_for_a_statement(client, staff, settings):
    request_id = await file(client, staff)
    waiting = await view(client, staff, request_id)
    assert waiting["status"] == "awaiting_manual"
    assert waiting["outcome"] is None
    [entry] = [e for e in waiting["timeline"] if e["action"] == "request.await_manual"]
    assert entry["detail"]["reason"] == "no connector is configured: no system was searched"
    assert not any("completed" in letter for letter in letters_to(settings))

    url = f"/v1/requests/{request_id}/complete"
    empty = await client.post(url, json={}, headers=staff["operator"])
    assert empty.status_code == 422
    assert empty.headers["content-type"] == "application/problem+json"
    approver = await client.post(url, json={"statement": STATEMENT}, headers=staff["approver"])
    assert approver.status_code == 403
    done = await client.post(url, json={"statement": STATEMENT}, headers=staff["operator"])
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed"

    completed = await view(client, staff, request_id)
    assert completed["outcome"]["statement"] == STATEMENT
    assert completed["outcome"]["connectors"] == {}
    assert completed["outcome"]["completed_by"] == "staff:operator-1"
    [letter] = [t for t in letters_to(settings) if "We have completed" in t]
    assert STATEMENT in letter
    again = await client.post(url, json={"statement": STATEMENT}, headers=staff["operator"])
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/invalid-transition"


async def test_a_request_whose_systems_were_searched_is_not_completed_by_statement(
    client, staff, runtime
):
    system = MemorySystem("crm")
    system.gate = __import__("asyncio").Event()  # the task stays pending: no worker runs
    runtime.connectors = registry(system)
    request_id = await file(client, staff)
    response = await client.post(
        f"/v1/requests/{request_id}/complete",
        json={"statement": STATEMENT},
        headers=staff["operator"],
    )
    assert response.status_code == 409
    assert (await view(client, staff, request_id))["status"] == "in_progress"


async def test_when_every_system_is_left_out_the_request_waits_for_a_statement(
    client, staff, runtime, worker, settings
):
    registry_like = MemorySystem("elhub")
    runtime.connectors = type(registry(registry_like)).of(
        [instance(registry_like, required_identity=frozenset({"national_id"}))]
    )
    request_id = await file(client, staff, national_id="30108299920")
    await worker.run_until_idle()
    [task] = (await view(client, staff, request_id))["tasks"]
    assert task["status"] == "needs_stronger_identity"
    skipped = await client.post(
        f"/v1/requests/{request_id}/tasks/{task['id']}/skip",
        json={"note": "asked to log in; did not"},
        headers=staff["operator"],
    )
    assert skipped.status_code == 200, skipped.text
    waiting = await view(client, staff, request_id)
    assert waiting["status"] == "awaiting_manual"
    reasons = [e["detail"].get("reason") for e in waiting["timeline"] if e["detail"]]
    assert "every system was left out: none was searched" in reasons

    done = await client.post(
        f"/v1/requests/{request_id}/complete",
        json={"statement": STATEMENT},
        headers=staff["operator"],
    )
    assert done.status_code == 200, done.text
    outcome = (await view(client, staff, request_id))["outcome"]
    assert outcome["connectors"]["elhub"]["actions"]["collect"]["not_searched"]
    assert outcome["statement"] == STATEMENT
