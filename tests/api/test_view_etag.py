"""The staff view's ETag: every change the view shows changes it; nothing else does (a read,
a 304), so a dashboard polling with If-None-Match gets 304 until something happens."""

from __future__ import annotations

import asyncio
import socket
from datetime import datetime, timedelta

from app.infra.mail import Mailer
from app.jobs.policy import IMMEDIATE
from app.jobs.runner import Worker
from app.services import letter_outbox
from tests.jobs.conftest import eventually
from tests.jobs.systems import MemorySystem, registry
from tests.recipients.test_art19 import directory, file, notices, receiver, systems  # noqa: F401

ATTESTED = {"method": "staff", "note": "called back on the number on file"}


async def create(client, staff, kind="access", email="ola@example.no"):
    response = await client.post(
        "/v1/requests",
        json={"kind": kind, "subject": {"email": email}, "verification": ATTESTED},
        headers=staff["operator"],
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def etag(client, staff, request_id):
    response = await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])
    assert response.status_code == 200
    return response.headers["etag"]


async def poll(client, staff, request_id, tag):
    headers = staff["operator"] | {"If-None-Match": tag}
    return await client.get(f"/v1/requests/{request_id}", headers=headers)


async def test_an_unchanged_view_answers_304_however_often_it_was_read(client, staff, runtime):
    runtime.connectors = registry(MemorySystem("crm"))
    request_id = await create(client, staff)
    tag = await etag(client, staff, request_id)
    for _ in range(3):
        assert await etag(client, staff, request_id) == tag  # reads are no change
    response = await poll(client, staff, request_id, tag)
    assert response.status_code == 304
    assert response.headers["etag"] == tag
    assert (await poll(client, staff, request_id, f'W/{tag}, "other"')).status_code == 304


async def test_tasks_running_and_settling_change_the_etag(client, staff, runtime):
    crm = MemorySystem("crm")
    crm.gate = asyncio.Event()
    runtime.connectors = registry(crm)
    request_id = await create(client, staff)
    pending = await etag(client, staff, request_id)
    worker = Worker(runtime, policy=IMMEDIATE, poll_seconds=0.05, lease_seconds=30)
    run = asyncio.create_task(worker.run())
    try:
        await eventually(lambda: crm.calls.running == 1)

        async def running_shows() -> bool:
            return (await poll(client, staff, request_id, pending)).status_code == 200

        await eventually(running_shows)
        running = await etag(client, staff, request_id)
        crm.gate.set()

        async def completed() -> bool:
            view = await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])
            return bool(view.json()["status"] == "completed")

        await eventually(completed)
    finally:
        crm.gate.set()
        worker.stop()
        await run
    done = await etag(client, staff, request_id)
    assert len({pending, running, done}) == 3
    assert (await poll(client, staff, request_id, running)).status_code == 200
    assert (await poll(client, staff, request_id, done)).status_code == 304


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_a_letter_sent_changes_the_etag(client, staff, runtime, clock, worker):
    runtime.connectors = registry(MemorySystem("crm"))
    working = runtime.mailer
    runtime.mailer = Mailer(
        sender="personvern@firma.example",
        smtp_url=f"smtp://127.0.0.1:{_closed_port()}",
        outbox=runtime.settings.outbox_dir,
    )
    request_id = await create(client, staff)
    await worker.run_until_idle()
    view = (await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])).json()
    assert {x["status"] for x in view["letters"]} == {"pending"}
    tag = await etag(client, staff, request_id)

    runtime.mailer = working
    clock.advance(timedelta(hours=2))
    assert await letter_outbox.deliver_due(runtime) >= 1
    response = await poll(client, staff, request_id, tag)
    assert response.status_code == 200
    assert {x["status"] for x in response.json()["letters"]} == {"sent"}
    assert response.headers["etag"] != tag


async def test_a_hold_placed_changes_the_etag(client, staff, runtime, worker):
    runtime.connectors = registry(MemorySystem("crm"))
    request_id = await create(client, staff, kind="erasure", email="ola@example.no")
    await worker.run_until_idle()
    tag = await etag(client, staff, request_id)
    hold = {
        "basis_code": "legal_claim",
        "connector": "*",
        "categories": ["contact"],
        "reason": "Dispute about delivery; lawyer involved",
        "subject": {"email": "ola@example.no"},
        "until": "2027-01-31",
    }
    placed = await client.post("/v1/holds", json=hold, headers=staff["approver"])
    assert placed.status_code == 201, placed.text
    response = await poll(client, staff, request_id, tag)
    assert response.status_code == 200
    assert [h["id"] for h in response.json()["holds"]] == [placed.json()["id"]]
    assert response.headers["etag"] != tag


async def test_a_notice_sent_changes_the_etag(client, staff, runtime, worker, receiver):  # noqa: F811
    _server, hook_url = receiver
    runtime.connectors = registry(*systems())
    runtime.recipients = directory(hook_url)
    created = await file(client, staff, "restriction")
    await worker.run_until_idle()
    tag = await etag(client, staff, created["id"])
    unknown = (await notices(client, staff, created["id"]))["Ukjent Partner AS"]
    url = f"/v1/requests/{created['id']}/recipient-notices/{unknown['id']}/resolve"
    body = {"status": "sent", "reason": "Told by phone to their DPO"}
    assert (await client.post(url, json=body, headers=staff["approver"])).status_code == 200
    response = await poll(client, staff, created["id"], tag)
    assert response.status_code == 200
    assert response.headers["etag"] != tag


async def test_an_overdue_request_changes_its_etag_with_time_alone(client, staff, runtime, clock):
    runtime.connectors = registry(MemorySystem("crm"))  # no worker runs: it stays open
    request_id = await create(client, staff)
    tag = await etag(client, staff, request_id)
    clock.advance(timedelta(days=100))
    response = await poll(client, staff, request_id, tag)
    assert response.status_code == 200
    assert response.json()["overdue"] is True


async def test_a_304_is_answered_from_one_read(client, staff, runtime):
    """Not from the built view: one SELECT, however much the request holds."""
    from sqlalchemy import event

    runtime.connectors = registry(MemorySystem("crm"))
    request_id = await create(client, staff)
    tag = await etag(client, staff, request_id)
    selects: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    engine = runtime.db.engine.sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = await poll(client, staff, request_id, tag)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 304
    assert len(selects) == 1, selects


async def test_an_answer_link_expiring_changes_the_etag_with_time_alone(
    client, staff, runtime, clock, worker
):
    from app.services import answer_links, requests

    runtime.connectors = registry(MemorySystem("crm"))
    request_id = await create(client, staff)
    await worker.run_until_idle()  # completed: the answer is ready
    async with runtime.db.session() as session:
        request = await requests.get(session, request_id)
        await answer_links.issue(runtime, session, request, actor="staff:operator-1")
    tag = await etag(client, staff, request_id)
    view = (await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])).json()
    assert {x["state"] for x in view["answer_links"]} == {"active"}
    last = max(datetime.fromisoformat(x["expires_at"]) for x in view["answer_links"])
    clock.set(last + timedelta(seconds=1))
    response = await poll(client, staff, request_id, tag)
    assert response.status_code == 200
    assert {x["state"] for x in response.json()["answer_links"]} == {"expired"}


async def test_a_304_is_one_statement_and_no_unit_of_work(client, staff, runtime):
    from sqlalchemy import event

    runtime.connectors = registry(MemorySystem("crm"))
    request_id = await create(client, staff)
    tag = await etag(client, staff, request_id)
    sent: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many):
        if not statement.startswith("BEGIN"):  # SQLite's own (deferred: no write lock)
            sent.append(statement)

    event.listen(runtime.db.engine.sync_engine, "before_cursor_execute", record)
    try:
        assert (await poll(client, staff, request_id, tag)).status_code == 304
    finally:
        event.remove(runtime.db.engine.sync_engine, "before_cursor_execute", record)
    assert len(sent) == 1, sent
    assert sent[0].lstrip().upper().startswith("SELECT")


async def test_a_staff_attested_intake_writes_the_request_row_twice_at_most(client, staff, runtime):
    """Inserted, then updated once as it stands at the flush before its tasks (not once per
    step: verified, started). Its version is not raised at the commit (filed in that unit of
    work, no one can hold a tag of it): only the letter's sending raises it, afterwards."""
    from sqlalchemy import event

    runtime.connectors = registry(MemorySystem("crm"))
    await create(client, staff, email="kari@example.no")  # a warm audit chain
    sent: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many):
        sent.append(" ".join(statement.split()))

    event.listen(runtime.db.engine.sync_engine, "before_cursor_execute", record)
    try:
        await create(client, staff)
    finally:
        event.remove(runtime.db.engine.sync_engine, "before_cursor_execute", record)
    writes = [s for s in sent if s.startswith("UPDATE requests SET") and "version" not in s]
    assert len(writes) == 1, writes
    raises = [s for s in sent if s.startswith("UPDATE requests SET") and "version" in s]
    assert len(raises) == 1 and "updated_at" in raises[0], raises  # the letter's, not the commit's
    assert sum(s.startswith("SELECT webhooks") for s in sent) == 1
    assert sum(s.startswith("SELECT audit_heads") for s in sent) == 1  # the global head


async def test_a_poll_is_answered_304_only_to_whom_the_route_would_show_the_view(
    client, staff, runtime, settings, form_key
):
    """Polls are answered before routing; a caller the route refuses gets the route's own
    answer, never a 304, even holding the view's current tag."""
    from app.security import issue_local_token

    runtime.connectors = registry(MemorySystem("crm"))
    request_id = await create(client, staff)
    tag = await etag(client, staff, request_id)
    no_role = issue_local_token(settings, subject="nobody", roles=[])
    forged = staff["operator"]["Authorization"][:-4] + "AAAA"
    callers = {
        "nobody": ({}, 401),
        "forged": ({"Authorization": forged}, 401),
        "not-bearer": ({"Authorization": staff["operator"]["Authorization"][7:]}, 401),
        "no-role": ({"Authorization": f"Bearer {no_role}"}, 403),
        "form-key": (form_key, 403),
    }
    for name, (headers, status) in callers.items():
        response = await client.get(
            f"/v1/requests/{request_id}", headers=headers | {"If-None-Match": tag}
        )
        assert response.status_code == status, name
        assert response.headers["content-type"] == "application/problem+json", name
    unknown = await poll(client, staff, "req_0000000000000000000000000", tag)
    assert unknown.status_code == 404
    for role in ("operator", "approver", "auditor", "admin"):
        got = await client.get(
            f"/v1/requests/{request_id}", headers=staff[role] | {"If-None-Match": tag}
        )
        assert (got.status_code, got.headers["etag"], got.content) == (304, tag, b"")


async def test_a_poll_answered_before_routing_is_logged_as_the_route(client, staff, runtime):
    from structlog.testing import capture_logs

    runtime.connectors = registry(MemorySystem("crm"))
    request_id = await create(client, staff)
    tag = await etag(client, staff, request_id)
    with capture_logs() as logs:
        assert (await poll(client, staff, request_id, tag)).status_code == 304
    [line] = [x for x in logs if x["event"] == "http_request"]
    assert (line["route"], line["status"], line["method"]) == (
        "/v1/requests/{request_id}",
        304,
        "GET",
    )
    assert request_id not in str(line)


async def test_a_poll_is_answered_without_running_the_route(client, staff, runtime, monkeypatch):
    from app import middleware_not_modified
    from app.services import request_views

    runtime.connectors = registry(MemorySystem("crm"))
    request_id = await create(client, staff)
    tag = await etag(client, staff, request_id)
    read, asked = middleware_not_modified.view_etag, []

    async def counted(rt, wanted):  # type: ignore[no-untyped-def]
        asked.append(wanted)
        return await read(rt, wanted)

    async def route_ran(*_args):  # type: ignore[no-untyped-def]
        raise AssertionError("the route answered the poll")

    monkeypatch.setattr(middleware_not_modified, "view_etag", counted)
    monkeypatch.setattr(request_views, "view_etag", route_ran)
    assert (await poll(client, staff, request_id, tag)).status_code == 304
    assert asked == [request_id]
