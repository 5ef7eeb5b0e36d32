"""The console's overview pages over real data made through the API: the monthly summary's
numbers exactly, holds by end date, webhook deliveries, connectors, and who may read them."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from xml.etree import ElementTree

from app.connectors.errors import ConnectorError
from app.connectors.protocol import Health
from app.services import webhook_delivery
from tests.jobs.conftest import file_verified
from tests.jobs.systems import MemorySystem, registry

SVG = "{http://www.w3.org/2000/svg}"


async def filed(client, staff, kind, email, **extra):
    body = {"kind": kind, "subject": {"email": email}, "language": "en"} | extra
    response = await client.post("/v1/requests", json=body, headers=staff["operator"])
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def post(client, url, body, headers):
    response = await client.post(url, json=body, headers=headers)
    assert response.status_code == 200, response.text


async def attest(client, staff, request_id):
    body = {"method": "staff", "note": "Known customer, called back"}
    await post(client, f"/v1/requests/{request_id}/verification", body, staff["operator"])


async def complete(client, staff, request_id):
    body = {"statement": "No system is connected; we checked by hand."}
    await post(client, f"/v1/requests/{request_id}/complete", body, staff["operator"])


async def a_year_of_requests(client, staff, clock):
    """Received Monday 2 March 2026 (the deadline rolls past Easter to Tuesday 7 April):
    two access requests, an erasure, a rectification, an objection and a portability request.

    March: the objection is refused after 4 days, one access request answered after 10, the
    erasure extended, the portability request withdrawn. April (20th): the other access
    request answered late, the erasure on time within its extension, both after 49 days.
    The rectification stays open."""
    on_time = await filed(client, staff, "access", "a@example.no")
    late = await filed(client, staff, "access", "b@example.no")
    extended = await filed(client, staff, "erasure", "c@example.no")
    refused = await filed(client, staff, "objection", "d@example.no")
    withdrawn = await filed(client, staff, "portability", "e@example.no")
    changes = {"changes": {"address": "Storgata 1, 0155 Oslo"}}
    await filed(client, staff, "rectification", "f@example.no", details=changes)
    for request_id in (on_time, late, extended):
        await attest(client, staff, request_id)
    more_time = {"months": 2, "reason": "the data is spread over many systems"}
    await post(client, f"/v1/requests/{extended}/extend", more_time, staff["approver"])
    clock.advance(timedelta(days=4))
    refusal = {"reason_code": "manifestly_unfounded", "explanation": "The same request again."}
    await post(client, f"/v1/requests/{refused}/refuse", refusal, staff["approver"])
    await post(client, f"/v1/requests/{withdrawn}/withdraw", {"reason": "asked"}, staff["operator"])
    clock.advance(timedelta(days=6))
    await complete(client, staff, on_time)
    clock.advance(timedelta(days=39))
    await complete(client, staff, late)
    await complete(client, staff, extended)


def facts(page: str) -> dict[str, str]:
    """The chosen month's figures: each ``<dt>`` with its ``<dd>``."""
    return dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", page))


def cells(page: str, label: str) -> list[str]:
    """The cells of the rows headed ``label``, in both tables of the summary."""
    rows = [r.split("</tr>")[0] for r in page.split(f'<th scope="row">{label}</th>')[1:]]
    return [c for r in rows for c in re.findall(r"<td>([^<]*)</td>", r)]


async def test_the_monthly_summary_counts_exactly(client, staff, clock, console):
    await a_year_of_requests(client, staff, clock)
    auditor = await console("auditor")
    march = await auditor.get(
        "/console/overview/summary", params={"month": "2026-03", "lang": "en"}
    )
    assert march.status_code == 200
    shown = facts(march.text)
    assert shown["Requests received"] == "6"
    assert (shown["Access"], shown["Erasure"], shown["Correction"]) == ("2", "1", "1")
    assert shown["Answered"] == "2" and shown["Answered on time"] == "2 (100%)"
    assert shown["Median days to answer"] == "7"
    assert (shown["Deadlines extended"], shown["Refused"], shown["Withdrawn"]) == ("1", "1", "1")

    april = await auditor.get("/console/overview/summary", params={"month": "2026-04"})
    shown = facts(april.text)
    assert shown["Requests received"] == "0"
    assert shown["Answered on time"] == "1 (50%)" and shown["Median days to answer"] == "49"
    # April and the eleven months before it: 4 answers, 3 on time, days 4, 10, 49, 49
    year = cells(april.text, "The twelve months")
    assert year[-8:] == ["6", "4", "3", "75%", "29.5", "1", "1", "1"]
    assert cells(april.text, "March 2026")[-8:] == ["6", "2", "2", "100%", "7", "1", "1", "1"]

    norsk = await auditor.get(
        "/console/overview/summary", params={"month": "2026-04", "lang": "nb"}
    )
    year = cells(norsk.text, "De tolv månedene")
    assert year[-8:] == ["6", "4", "3", "75\xa0%", "29,5", "1", "1", "1"]
    assert "april 2026" in norsk.text and 'lang="nb"' in norsk.text


async def test_the_chart_is_well_formed_svg_with_a_text_alternative(client, staff, clock, console):
    await a_year_of_requests(client, staff, clock)
    page = await (await console("operator")).get(
        "/console/overview/summary", params={"month": "2026-04", "lang": "en"}
    )
    source = re.search(r"<svg.*?</svg>", page.text, re.S)
    assert source is not None
    svg = ElementTree.fromstring(source.group(0))
    assert svg.get("role") == "img"
    title = svg.find(f"{SVG}title")
    assert title is not None and title.text and "Requests received per month" in title.text
    desc = svg.find(f"{SVG}desc")
    assert desc is not None and "March 2026: 6" in (desc.text or "")
    bars = [r for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    # March's bar in five parts (access, rectification, erasure, portability, objection)
    assert len(bars) == 5
    assert any(r.find(f"{SVG}title").text == "Access, March 2026: 2" for r in bars)
    assert "style=" not in source.group(0)


async def test_the_summary_as_csv(client, staff, clock, console):
    await a_year_of_requests(client, staff, clock)
    auditor = await console("auditor")
    answer = await auditor.get("/console/overview/summary.csv", params={"month": "2026-04"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    assert "innsyn-summary-2026-04.csv" in answer.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(answer.text.lstrip("\ufeff")), delimiter=";"))
    assert len(table) == 14 and table[0][0] == "Måned"
    assert table[-1][-8:] == ["6", "4", "3", "75\xa0%", "29,5", "1", "1", "1"]


async def test_a_month_that_is_not_one_shows_this_month(console, clock):
    page = await (await console("auditor")).get(
        "/console/overview/summary", params={"month": "next week", "lang": "en"}
    )
    assert page.status_code == 200
    assert "That is not a month" in page.text and "March 2026" in page.text


async def test_holds_are_listed_by_end_date_and_marked_when_ending_soon(client, staff, console):
    def hold(until, categories, basis="legal_claim"):
        return {
            "basis_code": basis,
            "connector": "*",
            "categories": categories,
            "reason": "Dispute about delivery; lawyer involved",
            "subject": {"email": "ola@example.no"},
            "until": until,
        }

    for body in (hold("2026-09-30", ["orders"]), hold("2026-03-20", ["invoices"])):
        placed = await client.post("/v1/holds", json=body, headers=staff["approver"])
        assert placed.status_code == 201, placed.text
    page = await (await console("auditor")).get("/console/overview/holds", params={"lang": "en"})
    assert page.status_code == 200
    text = page.text
    assert text.index("20 March 2026") < text.index("30 September 2026")
    assert text.count("ends within 30 days") == 1
    soon_row = text.split("20 March 2026")[1].split("</tr>")[0]
    assert (
        "ends within 30 days" in soon_row and "invoices" in soon_row and "all systems" in soon_row
    )
    assert "legal_claim" not in text  # the basis in words
    norsk = await (await console("auditor")).get("/console/overview/holds", params={"lang": "nb"})
    assert "20. mars 2026" in norsk.text and "slutter innen 30 dager" in norsk.text


async def test_webhooks_show_deliveries_to_admins_only(client, staff, runtime, console):
    body = {"url": "http://127.0.0.1:9/hook", "events": ["request.received"], "description": "CRM"}
    made = await client.post("/v1/webhooks", json=body, headers=staff["admin"])
    assert made.status_code == 201, made.text
    await filed(client, staff, "access", "a@example.no")
    await webhook_delivery.deliver_due(runtime)  # nothing listens there: the attempt fails
    admin = await console("admin")
    page = await admin.get("/console/overview/webhooks", params={"lang": "en"})
    assert page.status_code == 200
    assert "http://127.0.0.1:9/hook" in page.text and "a request was received" in page.text
    row = page.text.split("a request was received</td>")[1].split("</tr>")[0]
    assert "waiting" in row and "<td>1</td>" in row
    assert "request.received" not in page.text  # events in words, not codes
    for role in ("auditor", "operator", "approver"):
        refused = await (await console(role)).get("/console/overview/webhooks")
        assert refused.status_code == 403
        assert "administrator" in refused.text or "admin" in refused.text


class Broken(MemorySystem):
    """A system that is down: its check fails, and so does every task."""

    async def check(self) -> Health:
        return Health(ok=False, detail="no answer from the ledger")

    async def before(self) -> None:
        raise ConnectorError("the ledger refused the log-in")


async def test_connectors_show_their_health_and_recent_failures(runtime, worker, console):
    runtime.connectors = registry(MemorySystem("crm"), Broken("ledger"))
    await file_verified(runtime)
    await worker.run_until_idle()
    page = await (await console("auditor")).get(
        "/console/overview/connectors", params={"lang": "en"}
    )
    assert page.status_code == 200
    crm = page.text.split('<th scope="row">crm')[1].split("</tr>")[0]
    ledger = page.text.split('<th scope="row">ledger')[1].split("</tr>")[0]
    assert "works" in crm and "No failures" in crm and "find data" in crm
    assert "not working" in ledger and "no answer from the ledger" in ledger
    assert "1 failed" in ledger and "the ledger refused the log-in" in ledger
    assert "the customer register" in crm  # the system in words beside its name


async def test_every_overview_needs_a_staff_log_in(client):
    for path in ("connectors", "holds", "webhooks", "summary", "summary.csv"):
        answer = await client.get(f"/console/overview/{path}")
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/console/login?next=/console/overview/")


async def test_the_menu_links_the_queue_and_every_overview(console):
    page = await (await console("admin")).get("/console/overview/holds")
    for href in ("/console/", "/console/overview/connectors", "/console/overview/webhooks"):
        assert f'href="{href}"' in page.text
    assert 'href="/console/overview/holds" aria-current="page"' in page.text
