"""The request page: the staff view in words, read and logged like the API's, the audit
trail for auditors, and only the forms the staff member's roles allow."""

from __future__ import annotations

from app.connectors.registry import ConnectorRegistry
from app.domain.requests import Role
from tests.api.test_manual_truth import archive
from tests.web.console.conftest import OLA, file_request


async def test_the_page_shows_the_request_in_words(console, client, staff, runtime, worker):
    runtime.connectors = ConnectorRegistry.of([archive()])
    filed = await file_request(client, staff)
    await worker.run_until_idle()
    await console.login(Role.operator)
    page = (await console.page(f"/console/requests/{filed['id']}")).text
    assert "Forespørsel: innsyn" in page
    assert OLA["email"] in page and "bekreftet" in page
    assert "paper-archive" in page and "venter på saksbehandler" in page
    assert "forespørsel mottatt" in page and "identitet kontrollert" in page
    assert "Gjør arbeidet for hånd" in page and "binders searched" in page
    assert "awaiting_manual" not in page and "collect" not in page.replace('value="collect', "")
    # an operator may not refuse or extend: those forms are not shown
    assert "Avslå forespørselen" not in page and "Forleng fristen" not in page
    assert "Revisjonsspor" not in page


async def test_reading_the_page_is_logged_like_the_api(console, client, staff):
    filed = await file_request(client, staff)
    await console.login(Role.auditor)
    page = (await console.page(f"/console/requests/{filed['id']}", lang="en")).text
    assert "Audit trail" in page and "chain of events is whole" in page
    audit = await client.get(
        "/v1/audit", params={"request_id": filed["id"]}, headers=staff["auditor"]
    )
    reads = [e for e in audit.json()["items"] if e["action"] == "read.request"]
    assert [e["actor"] for e in reads] == ["staff:dev-staff"]
    # an auditor may do nothing to the request
    assert "What you can do" in page and "Nothing your roles allow" in page


async def test_an_approver_sees_the_approvers_forms(console, client, staff):
    filed = await file_request(client, staff)
    await console.login(Role.approver)
    page = (await console.page(f"/console/requests/{filed['id']}")).text
    for title in ("Avslå forespørselen", "Forleng fristen", "Hold tilbake opplysninger etter lov"):
        assert title in page
    assert "Bekreft hvem personen er" not in page
    assert "Utlevering ville krenke andres rettigheter" in page  # a reason that fits access
    assert "Vi har lovpålagt plikt til å oppbevare" not in page  # one for erasure only


async def test_an_unknown_request_is_a_page_in_words(console):
    await console.login(Role.operator)
    page = await console.client.get("/console/requests/req_nothing")
    assert page.status_code == 404 and "Siden finnes ikke" in page.text


async def test_a_page_without_a_log_in_asks_for_one(console, client, staff):
    filed = await file_request(client, staff)
    console.client.cookies.delete("innsyn_console", path="/console")
    page = await console.client.get(f"/console/requests/{filed['id']}")
    assert page.status_code == 303
    assert page.headers["location"] == f"/console/login?next=/console/requests/{filed['id']}"
