"""A hold keeps the fields its law names, not the whole category, through the API.

Kari owes an invoice (issued 1 February 2026, today is 2 March 2026). Bookkeeping and the
claim keep the invoice and what it shows of her (name, billing address); her e-mail and phone
in the billing register are not accounting documentation and go at once. When the holds end,
the follow-up erasure finds the kept rows by the register's key and removes them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Date, ForeignKey, Integer, MetaData, Numeric, String, Table, insert
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import create_async_engine

from app.connectors.builtin.invoicing import InvoicingConnector
from app.connectors.registry import ConnectorInstance, ConnectorRegistry
from app.services import flows
from app.services.hold_recheck import recheck_conditions
from tests.connectors.builtin.test_sql_support import ScratchDb, scratch_database

EMAIL, PHONE = "kari.nordmann@example.no", "+4741500001"
KEPT = ["name", "billing_address"]


def metadata(schema: str | None) -> MetaData:
    md = MetaData(schema=schema)
    prefix = f"{schema}." if schema else ""
    Table(
        "customers",
        md,
        Column("id", Integer, primary_key=True),
        Column("name", String(200), nullable=False),
        Column("email", String(200), nullable=False, unique=True),
        Column("phone", String(40)),
        Column("billing_address", String(200)),
    )
    Table(
        "invoices",
        md,
        Column("id", Integer, primary_key=True),
        Column("customer_ref", ForeignKey(f"{prefix}customers.id"), nullable=False),
        Column("amount", Numeric(12, 2), nullable=False),
        Column("issued_at", Date, nullable=False),
        Column("due_at", Date, nullable=False),
        Column("paid_at", Date),
        Column("status", String(32), nullable=False),
    )
    return md


class Billing:
    def __init__(self, db: ScratchDb) -> None:
        self.db = db

    async def sql(self, statement: str) -> list[tuple[Any, ...]]:
        engine = create_async_engine(self.db.url)
        prefix = f'"{self.db.schema}".' if self.db.schema else ""
        try:
            async with engine.begin() as conn:
                result = await conn.execute(sql_text(statement.format(t=prefix)))
                return [tuple(r) for r in result.all()] if result.returns_rows else []
        finally:
            await engine.dispose()


@pytest.fixture
async def billing(backend: str, tmp_path: Path, runtime, clock) -> AsyncIterator[Billing]:
    async with scratch_database(backend, tmp_path) as db:
        md = metadata(db.schema)
        name = f"{db.schema}." if db.schema else ""
        engine = create_async_engine(db.url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(md.create_all)
                await conn.execute(
                    insert(md.tables[f"{name}customers"]),
                    {
                        "id": 7,
                        "name": "Kari Nordmann",
                        "email": EMAIL,
                        "phone": PHONE,
                        "billing_address": "Storgata 1, 0155 Oslo",
                    },
                )
                await conn.execute(
                    insert(md.tables[f"{name}invoices"]),
                    {
                        "id": 10002,
                        "customer_ref": 7,
                        "amount": 990,
                        "issued_at": date(2026, 2, 1),
                        "due_at": date(2026, 2, 15),
                        "status": "sent",
                    },
                )
        finally:
            await engine.dispose()
        config = {
            "url": db.url,
            "schema": db.schema,
            "customers": {
                "match": {"email": "email", "phone": "phone"},
                "columns": ["name", {"name": "email", "erase": "anonymise"}, "phone", *KEPT[1:]],
            },
        }
        connector = InvoicingConnector(
            name="billing", config=config, today=lambda: clock.now().date()
        )
        runtime.connectors = ConnectorRegistry.of(
            [ConnectorInstance(name="billing", kind="invoicing", connector=connector)]
        )
        try:
            yield Billing(db)
        finally:
            await connector.aclose()


async def erase(client, staff, worker) -> dict[str, Any]:
    response = await client.post(
        "/v1/requests",
        json={
            "kind": "erasure",
            "language": "en",
            "subject": {"email": EMAIL, "phone": PHONE, "name": "Kari Nordmann"},
            "verification": {"method": "staff", "note": "signed letter; called back"},
        },
        headers=staff["operator"],
    )
    assert response.status_code == 201, response.text
    await worker.run_until_idle()
    view = await client.get(f"/v1/requests/{response.json()['id']}", headers=staff["operator"])
    return dict(view.json())


def erase_entries(view: dict[str, Any]) -> list[dict[str, Any]]:
    [task] = [t for t in view["tasks"] if t["action"] == "erase"]
    assert task["status"] == "succeeded", task["last_error"]
    return list(task["result"]["categories"])


def last_letter(settings) -> str:
    [*_, newest] = sorted(Path(settings.outbox_dir).glob("*.eml"))
    return str(message_from_bytes(newest.read_bytes(), policy=policy.default).get_content())


async def test_the_holds_keep_the_invoice_fields_and_erase_the_contact_channels(
    client, staff, runtime, worker, billing, clock, settings
) -> None:
    view = await erase(client, staff, worker)
    assert view["status"] == "completed"
    listed = await client.get(
        "/v1/holds", params={"request_id": view["id"]}, headers=staff["auditor"]
    )
    found = {h["basis_code"]: h for h in listed.json()["items"]}
    assert set(found) == {"outstanding_claim", "bookkeeping_primary"}
    assert {h["connector"] for h in found.values()} == {"billing"}
    assert all(h["fields"] == {"billing": KEPT} for h in found.values()), found

    billing_entries = [
        (e["outcome"], e["fields"], e["basis_code"])
        for e in erase_entries(view)
        if e["category"] == "billing"
    ]
    assert billing_entries == [
        ("anonymised", ["email", "phone"], None),  # e-mail anonymised (NOT NULL), phone nulled
        ("held", KEPT, "outstanding_claim"),
        ("held", KEPT, "bookkeeping_primary"),
    ]
    [(name, email, phone, address)] = await billing.sql(
        "SELECT name, email, phone, billing_address FROM {t}customers"
    )
    assert (name, phone, address) == ("Kari Nordmann", None, "Storgata 1, 0155 Oslo")
    assert email != EMAIL and email.startswith("anonymised-")
    assert await billing.sql("SELECT id FROM {t}invoices") == [(10002,)]

    letter = last_letter(settings)
    assert "only name and billing address" in letter
    assert EMAIL not in letter.split("Reference")[-1].split("\n\n", 1)[-1]

    # Paid, and the bookkeeping period over: the follow-up finds the rows by the key.
    await billing.sql("UPDATE {t}invoices SET paid_at = due_at, status = 'paid'")
    assert await recheck_conditions(runtime) == 1  # the claim ends: bookkeeping still keeps
    clock.set(datetime(2032, 1, 2, 9, 0, tzinfo=UTC))
    assert await flows.expire_holds(runtime) == 1
    after = await client.get(
        "/v1/holds", params={"request_id": view["id"]}, headers=staff["auditor"]
    )
    bookkeeping = next(h for h in after.json()["items"] if h["basis_code"] == "bookkeeping_primary")
    assert bookkeeping["status"] == "expired" and bookkeeping["follow_up_request_id"]
    await worker.run_until_idle()
    follow_up = await client.get(
        f"/v1/requests/{bookkeeping['follow_up_request_id']}", headers=staff["operator"]
    )
    assert follow_up.json()["status"] == "completed", follow_up.text
    assert await billing.sql("SELECT id FROM {t}invoices") == []
    assert await billing.sql("SELECT id FROM {t}customers") == []
