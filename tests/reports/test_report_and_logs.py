"""A full access request end to end: the person's answer, and no personal data in any log."""

from __future__ import annotations

import logging

from app.logging import configure
from tests.jobs.systems import MemorySystem, category, registry

EMAIL = "trude.testesen@example.no"
NAME = "Trude Testesen"
NATIONAL_ID = "30108299920"


def crm() -> MemorySystem:
    system = MemorySystem(
        "crm",
        categories=[
            category("contact"),
            category("support_notes", provided_by_subject=False),
        ],
    )
    system.seed(EMAIL, "contact", {"email": EMAIL, "name": NAME, "national_id": NATIONAL_ID})
    system.seed(EMAIL, "support_notes", {"note": f"{NAME} called about her bill"})
    return system


async def run_request(client, staff, runtime, worker, kind: str) -> dict:
    runtime.connectors = registry(crm())
    created = await client.post(
        "/v1/requests",
        json={
            "kind": kind,
            "subject": {"email": EMAIL, "name": NAME, "national_id": NATIONAL_ID},
            "verification": {"method": "staff", "note": "known customer"},
        },
        headers=staff["operator"],
    )
    assert created.status_code == 201, created.text
    await worker.run_until_idle()
    return created.json()


async def test_access_report_for_staff_and_for_the_person(client, staff, runtime, worker):
    created = await run_request(client, staff, runtime, worker, "access")
    url = f"/v1/requests/{created['id']}/report"
    report = (await client.get(url, headers=staff["auditor"])).json()
    [system] = report["systems"]
    assert system["system"] == "crm"
    contact = next(c for c in system["categories"] if c["category"] == "contact")
    [record] = contact["records"]
    assert {f["key"]: f["value"] for f in record["fields"]} == {
        "email": EMAIL,
        "name": NAME,
        "national_id": NATIONAL_ID,
    }
    assert contact["facts"]["purpose"] == "customer service"  # the Art. 15(1) facts come along
    assert contact["facts"]["legal_basis"] == "GDPR 6(1)(b) contract"
    assert "Datatilsynet" in report["complaint"]

    status = await client.get(
        f"/v1/requests/{created['id']}/status", params={"token": created["status_token"]}
    )
    assert status.json()["status"] == "completed"
    download = status.json()["download_url"]
    mine = await client.get(download, params={"format": "json"})
    assert mine.status_code == 200
    assert mine.json() == report
    page = await client.get(url, params={"format": "html", "token": created["status_token"]})
    assert page.headers["content-type"].startswith("text/html")
    assert "Trude Testesen" in page.text
    wrong = await client.get(url, params={"token": "x" * 32})
    assert wrong.status_code == 403
    audit = (
        await client.get(
            "/v1/audit", params={"request_id": created["id"]}, headers=staff["auditor"]
        )
    ).json()
    readers = [e["actor"] for e in audit["items"] if e["action"] == "read.report"]
    assert readers == ["staff:auditor-1", f"subject:{created['id']}"]
    assert [e["action"] for e in audit["items"]].count("read.answer_link") == 1


async def test_portability_keeps_only_what_the_person_provided(client, staff, runtime, worker):
    created = await run_request(client, staff, runtime, worker, "portability")
    report = (
        await client.get(f"/v1/requests/{created['id']}/report", headers=staff["operator"])
    ).json()
    categories = [c["category"] for c in report["systems"][0]["categories"]]
    assert categories == ["contact"]
    page = await client.get(
        f"/v1/requests/{created['id']}/report",
        params={"format": "portable"},
        headers=staff["operator"],
    )
    assert page.headers["content-disposition"].startswith("attachment;")
    [system] = page.json()["systems"]
    categories = [c["category"] for c in system["categories"]]
    assert categories == ["contact"]


async def test_no_report_for_erasure_or_before_completion(client, staff, form_key):
    created = (
        await client.post(
            "/v1/requests", json={"kind": "access", "subject": {"email": EMAIL}}, headers=form_key
        )
    ).json()
    early = await client.get(
        f"/v1/requests/{created['id']}/report", params={"token": created["status_token"]}
    )
    assert early.status_code == 409


async def test_a_full_request_logs_no_personal_data(client, staff, runtime, worker, capsys, caplog):
    configure("DEBUG")
    caplog.set_level(logging.DEBUG)
    try:
        created = await run_request(client, staff, runtime, worker, "erasure")
        view = await client.get(f"/v1/requests/{created['id']}", headers=staff["operator"])
        assert view.json()["status"] == "completed"
    finally:
        configure("INFO")
    captured = capsys.readouterr()
    everything = captured.out + captured.err + "\n".join(r.getMessage() for r in caplog.records)
    assert everything.strip(), "the request produced no log lines at all"
    for secret in (EMAIL, NAME, NATIONAL_ID, "Trude", "testesen"):
        assert secret.lower() not in everything.lower(), secret
