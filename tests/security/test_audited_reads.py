"""Staff searches by identifier and suppression checks are reads, so they are audited, with
the term only as a keyed hash."""

from __future__ import annotations

import json

from app.services.subjects import SubjectVault

EMAIL = "kari.nordmann@example.no"
NATIONAL_ID = "02013299997"


async def system_events(client, staff) -> list[dict]:
    page = await client.get("/v1/audit", headers=staff["auditor"])
    assert page.status_code == 200
    assert page.json()["chain"]["verified"] and page.json()["trail"]["verified"]
    return page.json()["items"]


async def test_searches_by_identifier_are_audited_as_keyed_hashes(client, staff, runtime):
    created = await client.post(
        "/v1/requests",
        json={
            "kind": "access",
            "subject": {"email": EMAIL, "national_id": NATIONAL_ID},
            "verification": {"method": "staff", "note": "known"},
        },
        headers=staff["operator"],
    )
    request_id = created.json()["id"]
    await client.get("/v1/requests", headers=staff["operator"])  # a plain listing reads no one
    assert [e for e in await system_events(client, staff) if e["action"] == "read.search"] == []

    for term in (EMAIL.upper(), NATIONAL_ID, "nobody@example.no"):
        found = await client.get("/v1/requests", params={"q": term}, headers=staff["operator"])
        assert found.status_code == 200
    events = await system_events(client, staff)
    searches = [e for e in events if e["action"] == "read.search"]
    vault = SubjectVault(runtime.cipher)
    assert [(e["actor"], e["detail"]) for e in searches] == [
        (
            "staff:operator-1",
            {"kind": "email", "term_hash": vault.email_hash(EMAIL), "request_ids": [request_id]},
        ),
        (
            "staff:operator-1",
            {
                "kind": "national_id",
                "term_hash": vault.national_id_hash(NATIONAL_ID),
                "request_ids": [request_id],
            },
        ),
        (
            "staff:operator-1",
            {
                "kind": "email",
                "term_hash": vault.email_hash("nobody@example.no"),
                "request_ids": [],
            },
        ),
    ]
    text = json.dumps(events).lower()
    assert EMAIL not in text and NATIONAL_ID not in text and "nobody@" not in text


async def test_a_bad_search_term_reads_nothing_and_records_nothing(client, staff):
    response = await client.get("/v1/requests", params={"q": "12345"}, headers=staff["operator"])
    assert response.status_code == 422
    assert [e for e in await system_events(client, staff) if e["action"] == "read.search"] == []


async def test_suppression_checks_are_audited_as_keyed_hashes(client, staff, form_key):
    for headers in (form_key, staff["operator"]):
        response = await client.post(
            "/v1/suppression/check",
            json={"email": EMAIL, "national_id": NATIONAL_ID},
            headers=headers,
        )
        assert response.status_code == 200
    checks = [e for e in await system_events(client, staff) if e["action"] == "read.suppression"]
    assert [e["actor"].split(":")[0] for e in checks] == ["form", "staff"]
    for event in checks:
        kinds = [i["kind"] for i in event["detail"]["identifiers"]]
        assert kinds == ["email", "national_id"]
        assert all(len(i["hash"]) == 64 for i in event["detail"]["identifiers"])
    text = json.dumps(checks).lower()
    assert EMAIL not in text and NATIONAL_ID not in text
