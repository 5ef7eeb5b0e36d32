"""Manual work is done only when it is done: an item answered false keeps the task open, or
the task ends as not_possible with the reason the person is told; what staff found by hand
(findings, scanned files) is sealed and answered like any system's data."""

from __future__ import annotations

import base64
import io
import zipfile
from email import message_from_bytes, policy
from pathlib import Path

from sqlmodel import select

from app.connectors.builtin.manual import ManualConfig, ManualConnector
from app.connectors.registry import ConnectorInstance, ConnectorRegistry
from app.db.models import CollectedData

EMAIL = "ola.nordmann@example.no"
CHECKLIST = ["binders searched", "pages shredded", "archive locked"]
SCAN = b"%PDF-1.4 signed contract 2019"


def archive() -> ConnectorInstance:
    config = ManualConfig.model_validate(
        {
            "system": "Locked paper archive, Oslo office",
            "instructions": "The key is with the office manager.",
            "checklist": CHECKLIST,
            "categories": [
                {
                    "name": "paper_contracts",
                    "description": "Signed customer contracts on paper.",
                    "purpose": "Documenting the agreement.",
                    "legal_basis": "GDPR 6(1)(b) contract",
                    "retention": "10 years after the customer relationship ends.",
                    "provided_by_subject": True,
                },
                {
                    "name": "paper_notes",
                    "description": "Handwritten notes from calls.",
                    "purpose": "Customer service.",
                    "legal_basis": "GDPR 6(1)(f) legitimate interest",
                    "retention": "2 years.",
                    "provided_by_subject": False,
                },
            ],
        }
    )
    return ConnectorInstance(
        name="paper-archive", kind="manual", connector=ManualConnector("paper-archive", config)
    )


def letters_to(settings) -> list[str]:
    return [
        message_from_bytes(p.read_bytes(), policy=policy.default).get_content()
        for p in sorted(Path(settings.outbox_dir).glob("*.eml"))
    ]


async def filed(client, staff, worker, kind: str) -> tuple[str, str, str]:
    response = await client.post(
        "/v1/requests",
        json={
            "kind": kind,
            "language": "en",
            "subject": {"email": EMAIL},
            "verification": {"method": "staff", "note": "called back on the number on file"},
        },
        headers=staff["operator"],
    )
    assert response.status_code == 201, response.text
    request_id = response.json()["id"]
    await worker.run_until_idle()
    view = (await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])).json()
    [task] = [t for t in view["tasks"] if t["status"] == "manual"]
    url = f"/v1/requests/{request_id}/tasks/{task['id']}/complete"
    return request_id, task["id"], url


async def status_of(client, staff, request_id: str) -> tuple[str, list[str]]:
    view = (await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])).json()
    return view["status"], [t["status"] for t in view["tasks"]]


async def test_an_item_answered_false_keeps_the_erasure_open_until_it_ends_as_not_possible(
    client, staff, runtime, worker, settings
):
    runtime.connectors = ConnectorRegistry.of([archive()])
    request_id, _task, url = await filed(client, staff, worker, "erasure")
    answers = {"binders searched": True, "pages shredded": False, "archive locked": True}

    open_ = await client.post(url, json={"answers": answers}, headers=staff["operator"])
    assert open_.status_code == 422
    assert open_.headers["content-type"] == "application/problem+json"
    assert open_.json()["not_done"] == ["pages shredded"]
    assert await status_of(client, staff, request_id) == ("awaiting_manual", ["manual"])
    assert not any("completed" in t for t in letters_to(settings))

    reason = "The shredder is broken; the pages are locked away until it is repaired."
    short = await client.post(
        url, json={"answers": answers, "not_possible_reason": "no"}, headers=staff["operator"]
    )
    assert short.status_code == 422
    ended = await client.post(
        url, json={"answers": answers, "not_possible_reason": reason}, headers=staff["operator"]
    )
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "not_possible"
    view = (await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])).json()
    assert view["status"] == "completed"
    erase = view["outcome"]["connectors"]["paper-archive"]["actions"]["erase"]
    assert (erase["status"], erase["not_possible"]) == ("not_possible", reason)
    assert view["outcome"]["tasks"] == {"not_possible": 1}
    [letter] = [t for t in letters_to(settings) if "We have completed" in t]
    assert "we could not carry out your request. The reason:" in letter
    assert f"\u201c{reason}\u201d" in letter  # staff's words, quoted
    assert "Datatilsynet" in letter


async def test_findings_and_a_scan_are_sealed_and_in_the_report_and_the_export(
    client, staff, runtime, worker
):
    runtime.connectors = ConnectorRegistry.of([archive()])
    body = {
        "answers": {"binders searched": True, "pages shredded": True, "archive locked": True},
        "findings": [
            {
                "category": "paper_contracts",
                "description": "Signed electricity contract",
                "values": {"signed_on": "2019-04-02", "pages": 3},
            },
            {"category": "paper_notes", "description": "Note from a call about a meter"},
        ],
        "files": [
            {
                "category": "paper_contracts",
                "file_name": "contract-2019.pdf",
                "content_type": "application/pdf",
                "content_base64": base64.b64encode(SCAN).decode(),
            }
        ],
    }
    request_id, task_id, url = await filed(client, staff, worker, "access")

    undeclared = body | {"findings": [{"category": "tax_forms", "description": "x"}]}
    refused = await client.post(url, json=undeclared, headers=staff["operator"])
    assert refused.status_code == 422
    assert refused.json()["unknown_categories"] == ["tax_forms"]
    not_base64 = body | {"files": [body["files"][0] | {"content_base64": "not base64!"}]}
    assert (await client.post(url, json=not_base64, headers=staff["operator"])).status_code == 422

    done = await client.post(url, json=body, headers=staff["operator"])
    assert done.status_code == 200, done.text
    assert done.json()["result"]["categories"] == {"paper_contracts": 2, "paper_notes": 1}

    report = (
        await client.get(f"/v1/requests/{request_id}/report", headers=staff["operator"])
    ).json()
    [system] = report["systems"]
    assert system["system"] == "paper-archive"
    by_name = {c["category"]: c for c in system["categories"]}
    contracts = by_name["paper_contracts"]
    assert contracts["facts"]["legal_basis"] == "GDPR 6(1)(b) contract"
    records = [{f["key"]: f["value"] for f in r["fields"]} for r in contracts["records"]]
    assert records[0] == {
        "description": "Signed electricity contract",
        "signed_on": "2019-04-02",
        "pages": 3,
    }
    scan = records[1]
    assert (scan["file_name"], scan["size_bytes"]) == ("contract-2019.pdf", len(SCAN))
    assert "content_base64" not in scan  # the bytes are a file of their own, not in the record
    [listed] = contracts["attachments"]
    assert listed["name"] == "contract-2019.pdf" and listed["size"] == len(SCAN)
    assert listed["media_type"] == "application/pdf"
    download = await client.get(
        f"/v1/requests/{request_id}/report", params={"format": "zip"}, headers=staff["operator"]
    )
    with zipfile.ZipFile(io.BytesIO(download.content)) as the_zip:
        assert the_zip.read(listed["path"]) == SCAN
    notes = [{f["key"]: f["value"] for f in r["fields"]} for r in by_name["paper_notes"]["records"]]
    assert notes == [{"description": "Note from a call about a meter"}]
    html = await client.get(
        f"/v1/requests/{request_id}/report",
        params={"format": "html"},
        headers=staff["operator"],
    )
    assert "Signed electricity contract" in html.text

    # Sealed at rest like collected data.
    async with runtime.db.session() as session:
        [row] = list(await session.exec(select(CollectedData)))
    assert row.task_id == task_id and row.record_count == 3
    assert "Signed electricity contract" not in row.ciphertext

    # Portability keeps only what the person provided: the contract, not the call notes.
    _, _, url = await filed(client, staff, worker, "portability")
    assert (await client.post(url, json=body, headers=staff["operator"])).status_code == 200
    listed = await client.get(
        "/v1/requests", params={"kind": "portability"}, headers=staff["auditor"]
    )
    [portability] = listed.json()["items"]
    export = (
        await client.get(f"/v1/requests/{portability['id']}/report", headers=staff["operator"])
    ).json()
    assert [c["category"] for c in export["systems"][0]["categories"]] == ["paper_contracts"]


async def test_findings_belong_to_a_collect_task(client, staff, runtime, worker):
    runtime.connectors = ConnectorRegistry.of([archive()])
    _, _, url = await filed(client, staff, worker, "erasure")
    body = {
        "answers": dict.fromkeys(CHECKLIST, True),
        "findings": [{"category": "paper_contracts", "description": "a contract"}],
    }
    response = await client.post(url, json=body, headers=staff["operator"])
    assert response.status_code == 422
    assert response.json()["field"] == "findings"
