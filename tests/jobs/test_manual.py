"""A manual task (a paper archive) keeps the request in ``awaiting_manual`` until an operator
closes it through the API with every checklist item answered."""

from __future__ import annotations

from tests.jobs.conftest import audit_actions, file_verified, load
from tests.jobs.systems import MemorySystem, PaperArchive, registry

CHECKLIST = PaperArchive.CHECKLIST


async def test_a_manual_task_waits_until_an_operator_completes_it(runtime, worker, client, staff):
    runtime.connectors = registry(PaperArchive("paper-archive"), MemorySystem("crm"))
    request_id = await file_verified(runtime)
    await worker.run_until_idle()

    request, tasks = await load(runtime, request_id)
    assert request.status == "awaiting_manual"
    assert tasks["crm"].status == "succeeded"
    archive = tasks["paper-archive"]
    assert archive.status == "manual"
    assert archive.checklist == {"instructions": "Search the paper archive", "items": CHECKLIST}
    view = (await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])).json()
    shown = next(t for t in view["tasks"] if t["connector"] == "paper-archive")
    assert shown["status"] == "manual" and shown["checklist"]["items"] == CHECKLIST

    url = f"/v1/requests/{request_id}/tasks/{archive.id}/complete"
    answers = dict.fromkeys(CHECKLIST, True)
    denied = await client.post(url, json={"answers": answers}, headers=staff["approver"])
    assert denied.status_code == 403
    partial = await client.post(
        url, json={"answers": {CHECKLIST[0]: True}}, headers=staff["operator"]
    )
    assert partial.status_code == 422
    assert partial.json()["missing"] == [CHECKLIST[1]]
    # Nothing changes while the checklist is incomplete, and the worker leaves it alone.
    await worker.run_until_idle()
    request, _ = await load(runtime, request_id)
    assert request.status == "awaiting_manual"

    # An item answered false is not done: the task stays open.
    not_done = await client.post(
        url,
        json={"answers": {CHECKLIST[0]: True, CHECKLIST[1]: False}, "note": "no file found"},
        headers=staff["operator"],
    )
    assert not_done.status_code == 422
    assert not_done.json()["not_done"] == [CHECKLIST[1]]
    request, tasks = await load(runtime, request_id)
    assert (request.status, tasks["paper-archive"].status) == ("awaiting_manual", "manual")

    done = await client.post(url, json={"answers": answers}, headers=staff["operator"])
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "succeeded"
    request, tasks = await load(runtime, request_id)
    assert request.status == "completed"
    outcome = request.outcome["connectors"]["paper-archive"]["actions"]["collect"]
    assert outcome["closed_by_hand"] is True
    assert outcome["answers"] == answers
    actions = await audit_actions(runtime, request_id)
    assert actions.count("task.manual") == 1
    assert actions.count("task.manual_completed") == 1
    assert actions[-1] == "request.complete"

    again = await client.post(url, json={"answers": answers}, headers=staff["operator"])
    assert again.status_code == 409


async def test_a_manual_task_of_another_request_is_not_found(runtime, worker, client, staff):
    runtime.connectors = registry(PaperArchive("paper-archive"))
    first = await file_verified(runtime)
    second = await file_verified(runtime, email="other@example.no")
    await worker.run_until_idle()
    _, tasks = await load(runtime, first)
    url = f"/v1/requests/{second}/tasks/{tasks['paper-archive'].id}/complete"
    answers = dict.fromkeys(CHECKLIST, True)
    response = await client.post(url, json={"answers": answers}, headers=staff["operator"])
    assert response.status_code == 404
