"""A B2B contact person asks to be erased, through the API and the worker, with a real `sql`
connector: what the contract needs is kept under `b2b_contact`, the rest goes at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest

from app.connectors.builtin.sql import SqlConnector
from app.connectors.registry import ConnectorInstance, ConnectorRegistry
from tests.connectors.builtin.test_sql_holds import (
    B2B,
    CONDITION,
    contact_row,
    create_company_contacts,
    holds_config,
    rows,
)
from tests.connectors.builtin.test_sql_support import (
    Person,
    ScratchDb,
    create_crm,
    scratch_database,
)

NINA = Person(
    4, "nina.dahl@example.no", "Nina Dahl", "+4794444444", "C-NI-1204", "12128099930", orders=1
)
"""The registered contact of two business customers with active contracts."""
TORE = Person(
    5, "tore.lie@example.no", "Tore Lie", "+4795555555", "C-TO-3307", "13128099940", orders=0
)
"""Was the contact of a business customer whose contract has ended."""


@pytest.fixture
async def crm_db(backend: str, tmp_path: Path) -> AsyncIterator[ScratchDb]:
    async with scratch_database(backend, tmp_path) as scratch:
        await create_crm(scratch, [NINA, TORE])
        await create_company_contacts(
            scratch,
            [
                contact_row(1, NINA, "999888777", "Fjordlys Elektro AS", active=True),
                contact_row(2, NINA, "912345670", "Havbris Regnskap AS", active=True),
                contact_row(3, TORE, "923609016", "Tindevik Transport AS", active=False),
            ],
        )
        yield scratch


@pytest.fixture
async def crm(runtime, crm_db: ScratchDb) -> AsyncIterator[SqlConnector]:
    connector = SqlConnector(name="crm", config=holds_config(crm_db))
    runtime.connectors = ConnectorRegistry.of(
        [ConnectorInstance(name="crm", kind="sql", connector=connector)]
    )
    yield connector
    await connector.aclose()


async def erase(client, staff, worker, person: Person) -> dict[str, Any]:
    created = await client.post(
        "/v1/requests",
        json={
            "kind": "erasure",
            "language": "en",
            "subject": {"email": person.email, "name": person.name},
            "verification": {"method": "staff", "note": "called back on the number on file"},
        },
        headers=staff["operator"],
    )
    assert created.status_code == 201, created.text
    await worker.run_until_idle()
    view = await client.get(f"/v1/requests/{created.json()['id']}", headers=staff["operator"])
    return dict(view.json())


def erase_result(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    [task] = [t for t in view["tasks"] if t["action"] == "erase"]
    assert task["status"] == "succeeded", task["last_error"]
    return {c["category"]: c for c in task["result"]["categories"]}


def last_letter(settings) -> str:
    [*_, newest] = sorted(Path(settings.outbox_dir).glob("*.eml"))
    return str(message_from_bytes(newest.read_bytes(), policy=policy.default).get_content())


@pytest.mark.usefixtures("crm")
async def test_the_contact_role_is_kept_and_everything_else_is_erased(
    client, staff, worker, crm_db: ScratchDb, settings
) -> None:
    view = await erase(client, staff, worker, NINA)

    assert view["status"] == "completed"
    assert sorted((t["action"], t["status"]) for t in view["tasks"]) == [
        ("erase", "succeeded"),
        ("holds", "succeeded"),
    ]
    result = erase_result(view)
    kept = result.pop(B2B)
    assert (kept["outcome"], kept["basis_code"], kept["reason"], kept["until"]) == (
        "held",
        "b2b_contact",
        CONDITION,
        None,
    )
    assert {c: (e["outcome"], e["count"]) for c, e in result.items()} == {
        "contact": ("erased", 1),
        "marketing": ("erased", 1),
        "orders": ("erased", 1),
        "order_lines": ("erased", 2),
        "notes": ("erased", 2),
    }
    assert [h["category"] for h in view["outcome"]["connectors"]["crm"]["held"]] == [B2B]

    holds = await client.get(
        "/v1/holds", params={"request_id": view["id"]}, headers=staff["auditor"]
    )
    assert holds.status_code == 200, holds.text
    found = sorted(
        (h["connector"], h["basis_code"], h["reference"], h["categories"], h["condition"])
        for h in holds.json()["items"]
    )
    assert found == [
        ("crm", "b2b_contact", "org_number 912345670", [B2B], CONDITION),
        ("crm", "b2b_contact", "org_number 999888777", [B2B], CONDITION),
    ]
    assert {(h["status"], h["until"], h["source"]) for h in holds.json()["items"]} == {
        ("active", None, "connector")
    }

    assert await rows(crm_db, "SELECT id FROM customers WHERE id = :n", n=NINA.number) == []
    assert await rows(crm_db, "SELECT id FROM company_contacts ORDER BY id") == [(1,), (2,), (3,)]
    assert await rows(crm_db, "SELECT id FROM customers WHERE id = :n", n=TORE.number) == [
        (TORE.number,)
    ]
    letter = last_letter(settings)
    assert "registered contact" in letter and B2B.replace("_", " ") in letter


@pytest.mark.usefixtures("crm")
async def test_a_contact_whose_contract_ended_is_erased_entirely(
    client, staff, worker, crm_db: ScratchDb
) -> None:
    view = await erase(client, staff, worker, TORE)

    assert view["status"] == "completed"
    result = erase_result(view)
    assert result[B2B]["outcome"] == "erased"
    assert {e["outcome"] for e in result.values()} <= {"erased", "not_found"}
    holds = await client.get(
        "/v1/holds", params={"request_id": view["id"]}, headers=staff["auditor"]
    )
    assert holds.json()["items"] == []
    assert await rows(crm_db, "SELECT id FROM company_contacts ORDER BY id") == [(1,), (2,)]
