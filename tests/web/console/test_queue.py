"""The queue: open requests by legal deadline, filters, an audited search, pages."""

from __future__ import annotations

from datetime import timedelta

from app.connectors.registry import ConnectorRegistry
from app.domain.requests import Role
from tests.api.test_manual_truth import archive
from tests.jobs.systems import MemorySystem, registry
from tests.web.console.conftest import OLA, file_request


async def test_the_queue_lists_open_requests_nearest_deadline_first(console, client, staff):
    first = await file_request(client, staff)
    second = await file_request(client, staff, "erasure", {"email": "kari@example.no"})
    await console.login(Role.auditor)
    page = await console.page("/console/")
    assert first["id"] in page.text and second["id"] in page.text
    assert page.text.index(first["id"]) < page.text.index(second["id"])
    assert "innsyn" in page.text.lower() and "Forespørsler" in page.text
    assert "<td>sletting</td>" in page.text and "<td>venter på saksbehandler</td>" in page.text


async def test_filters_narrow_the_queue(console, client, staff):
    access = await file_request(client, staff)
    erasure = await file_request(client, staff, "erasure", {"email": "kari@example.no"})
    await console.login(Role.operator)
    page = await console.page("/console/", kind="erasure")
    assert erasure["id"] in page.text and access["id"] not in page.text
    page = await console.page("/console/", channel="letter")
    assert erasure["id"] not in page.text and "Ingen forespørsel passer" in page.text
    page = await console.page("/console/", status="bogus", lang="en")
    assert erasure["id"] in page.text and "Requests" in page.text


async def test_a_search_by_identifier_is_audited(console, client, staff, runtime):
    ola = await file_request(client, staff)
    other = await file_request(client, staff, "erasure", {"email": "kari@example.no"})
    await console.login(Role.operator)
    page = await console.page("/console/", q=OLA["national_id"])
    assert ola["id"] in page.text and other["id"] not in page.text
    audit = await client.get("/v1/audit", headers=staff["auditor"])
    searches = [e for e in audit.json()["items"] if e["action"] == "read.search"]
    assert searches and searches[-1]["detail"]["request_ids"] == [ola["id"]]
    assert searches[-1]["actor"] == "staff:dev-staff"
    assert OLA["national_id"] not in str(searches)


async def test_a_search_that_is_no_identifier_is_said_in_words(console):
    await console.login(Role.operator)
    page = await console.page("/console/", q="ola")
    assert "Skriv en hel e-postadresse" in page.text


async def test_the_queue_pages(console, client, staff, monkeypatch):
    monkeypatch.setattr("app.web.console.queue.PAGE_SIZE", 2)
    for n in range(3):
        await file_request(client, staff, subject={"email": f"p{n}@example.no"})
    await console.login(Role.operator)
    first = await console.page("/console/")
    assert "Side 1 av 2" in first.text and "page=2" in first.text
    second = await console.page("/console/", page="2")
    assert "Side 2 av 2" in second.text


async def test_overdue_and_due_soon_are_marked(console, client, staff, clock):
    await file_request(client, staff)
    await console.login(Role.operator)
    assert "fristen" not in (await console.page("/console/")).text.split("<tbody>")[1]
    clock.advance(timedelta(days=33))
    assert "fristen nærmer seg" in (await console.page("/console/")).text
    clock.advance(timedelta(days=10))
    page = (await console.page("/console/")).text
    assert "fristen er passert" in page and "fristen nærmer seg" not in page.split("<tbody>")[1]


async def test_needs_action_leaves_out_requests_the_systems_are_working_on(
    console, client, staff, runtime, worker
):
    runtime.connectors = ConnectorRegistry.of([archive()])
    waiting = await file_request(client, staff)
    await worker.run_until_idle()  # the paper archive waits for staff
    runtime.connectors = registry(MemorySystem("crm"))
    working = await file_request(client, staff, subject={"email": "kari@example.no"})
    await console.login(Role.operator)
    every = (await console.page("/console/")).text
    assert waiting["id"] in every and working["id"] in every
    needing = (await console.page("/console/", action="yes")).text
    assert waiting["id"] in needing and working["id"] not in needing


async def test_every_console_page_has_the_same_menu(console, client, staff):
    await console.login(Role.auditor)
    for path in ("/console/", "/console/overview/summary"):
        page = await console.page(path)
        for target in ("/console/", "/console/overview/connectors", "/console/overview/summary"):
            assert f'href="{target}"' in page.text, (path, target)
