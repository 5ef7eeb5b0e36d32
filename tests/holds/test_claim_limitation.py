"""A claim hold lasts as long as the claim can be enforced (foreldelsesloven), through the API.

Today is 2 March 2026. One person per invoice, so each row of the table is one erasure:
paid; unpaid and due two years ago; unpaid and due four years ago (time-barred); in debt
collection (a collection step does not interrupt); sued and judged (ten years from the
judgment); sued and still pending (no end date while the case goes on).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Date, ForeignKey, Integer, MetaData, Numeric, String, Table, insert
from sqlalchemy import text as sql_text
from sqlalchemy.ext.asyncio import create_async_engine

from app.connectors.builtin.invoicing import InvoicingConnector
from app.connectors.registry import ConnectorInstance, ConnectorRegistry
from app.services import flows
from tests.connectors.builtin.test_sql_support import ScratchDb, scratch_database


@dataclass(frozen=True)
class Row:
    person: str
    issued: date
    due: date
    paid: date | None = None
    status: str = "sent"
    collection: date | None = None
    legal_step: date | None = None
    judgment: date | None = None


# person → invoice, and the claim hold the law gives on 2 March 2026 (basis, until, law).
TABLE: list[tuple[Row, tuple[str, str | None, str] | None]] = [
    (Row("paid", date(2025, 3, 1), date(2025, 3, 15), paid=date(2025, 3, 10), status="paid"), None),
    (
        Row("two_years", date(2024, 3, 1), date(2024, 3, 15)),
        ("outstanding_claim", "2027-03-15", "foreldelsesloven §§ 2 og 3"),
    ),
    (Row("four_years", date(2022, 2, 15), date(2022, 3, 1)), None),  # time-barred 1.3.2025
    (
        Row("collection", date(2024, 5, 20), date(2024, 6, 3), collection=date(2025, 1, 10)),
        ("debt_collection", "2027-06-03", "foreldelsesloven §§ 2 og 3"),
    ),
    (
        Row(
            "judged",
            date(2019, 1, 2),
            date(2019, 1, 16),
            legal_step=date(2021, 6, 1),
            judgment=date(2022, 5, 10),
        ),
        ("outstanding_claim", "2032-05-10", "foreldelsesloven § 21 nr. 2"),
    ),
    (
        Row("pending", date(2022, 1, 3), date(2022, 1, 17), legal_step=date(2024, 11, 1)),
        ("outstanding_claim", None, "foreldelsesloven §§ 15 og 21 nr. 1"),
    ),
]
ROWS = [row for row, _ in TABLE]


def email(row: Row) -> str:
    return f"{row.person.replace('_', '.')}@example.no"


def metadata(schema: str | None) -> MetaData:
    md = MetaData(schema=schema)
    prefix = f"{schema}." if schema else ""
    Table(
        "customers",
        md,
        Column("id", Integer, primary_key=True),
        Column("email", String(200), nullable=False),
        Column("name", String(200), nullable=False),
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
        Column("collection_at", Date),
        Column("sued_at", Date),
        Column("judged_at", Date),
    )
    return md


async def create(db: ScratchDb) -> None:
    md = metadata(db.schema)

    def table(name: str) -> Table:
        return md.tables[f"{db.schema}.{name}" if db.schema else name]

    engine = create_async_engine(db.url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(md.create_all)
            for n, row in enumerate(ROWS, start=1):
                await conn.execute(
                    insert(table("customers")), {"id": n, "email": email(row), "name": row.person}
                )
                await conn.execute(
                    insert(table("invoices")),
                    {
                        "id": 100 + n,
                        "customer_ref": n,
                        "amount": Decimal("990.00"),
                        "issued_at": row.issued,
                        "due_at": row.due,
                        "paid_at": row.paid,
                        "status": row.status,
                        "collection_at": row.collection,
                        "sued_at": row.legal_step,
                        "judged_at": row.judgment,
                    },
                )
    finally:
        await engine.dispose()


def config(db: ScratchDb) -> dict[str, Any]:
    return {
        "url": db.url,
        "schema": db.schema,
        "invoices": {
            "collection_started_at": "collection_at",
            "legal_step_at": "sued_at",
            "judgment_at": "judged_at",
        },
        "customers": {"match": {"email": "email"}, "columns": ["email", "name"]},
    }


@pytest.fixture
async def billing(backend: str, tmp_path: Path, runtime, clock) -> AsyncIterator[ScratchDb]:
    async with scratch_database(backend, tmp_path) as db:
        await create(db)
        connector = InvoicingConnector(
            name="billing", config=config(db), today=lambda: clock.now().date()
        )
        runtime.connectors = ConnectorRegistry.of(
            [ConnectorInstance(name="billing", kind="invoicing", connector=connector)]
        )
        try:
            yield db
        finally:
            await connector.aclose()


async def invoice_ids(db: ScratchDb) -> list[int]:
    engine = create_async_engine(db.url)
    prefix = f'"{db.schema}".' if db.schema else ""
    try:
        async with engine.begin() as conn:
            rows = await conn.execute(sql_text(f"SELECT id FROM {prefix}invoices ORDER BY id"))
            return [r[0] for r in rows]
    finally:
        await engine.dispose()


async def erase(client, staff, worker, address: str) -> str:
    response = await client.post(
        "/v1/requests",
        json={
            "kind": "erasure",
            "language": "en",
            "subject": {"email": address},
            "verification": {"method": "staff", "note": "known customer"},
        },
        headers=staff["operator"],
    )
    assert response.status_code == 201, response.text
    await worker.run_until_idle()
    return str(response.json()["id"])


async def claim_holds(client, staff, request_id: str) -> list[dict[str, Any]]:
    response = await client.get(
        "/v1/holds", params={"request_id": request_id}, headers=staff["auditor"]
    )
    assert response.status_code == 200, response.text
    return [
        h
        for h in response.json()["items"]
        if h["basis_code"] in ("outstanding_claim", "debt_collection")
    ]


@pytest.mark.parametrize(("row", "expected"), TABLE, ids=[r.person for r in ROWS])
async def test_the_claim_hold_ends_when_the_law_says(
    client, staff, worker, billing, row: Row, expected: tuple[str, str | None, str] | None
) -> None:
    request_id = await erase(client, staff, worker, email(row))
    found = await claim_holds(client, staff, request_id)
    if expected is None:
        assert found == []  # paid, or time-barred: no claim keeps the data
        return
    [hold] = found
    basis, until, law = expected
    assert (hold["basis_code"], hold["until"]) == (basis, until)
    assert hold["condition"].endswith(f"({law})")  # the hold cites the law it rests on


async def test_a_judged_claim_expires_at_limitation_and_the_follow_up_erases_it(
    client, staff, runtime, worker, billing, clock
) -> None:
    judged = next(r for r in ROWS if r.person == "judged")
    invoice = 100 + ROWS.index(judged) + 1
    request_id = await erase(client, staff, worker, email(judged))
    [claim] = await claim_holds(client, staff, request_id)
    assert invoice in await invoice_ids(billing)  # kept by the judged claim

    clock.set(datetime(2032, 5, 10, 12, 0, tzinfo=UTC))  # the last day it can be enforced
    assert await flows.expire_holds(runtime) == 0
    clock.set(datetime(2032, 5, 11, 12, 0, tzinfo=UTC))
    assert await flows.expire_holds(runtime) == 1

    [ended] = await claim_holds(client, staff, request_id)
    assert ended["status"] == "expired"
    assert ended["follow_up_request_id"]
    await worker.run_until_idle()
    follow_up = await client.get(
        f"/v1/requests/{ended['follow_up_request_id']}", headers=staff["operator"]
    )
    assert follow_up.json()["status"] == "completed", follow_up.text
    assert invoice not in await invoice_ids(billing)
