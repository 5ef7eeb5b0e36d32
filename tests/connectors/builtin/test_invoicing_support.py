"""A scratch invoicing database for the invoicing connector tests (helpers only, no tests).

Today is 2 March 2026 in these tests. The people:

- Dana: a 2019 invoice (paid; its bookkeeping period ended 31.12.2024), a paid 2025 invoice
  (kept to 31.12.2030) and an unpaid 2026 invoice (an open claim).
- Erik: an invoice sent to debt collection.
- Frida: only a paid 2018 invoice: nothing holds her data any more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    insert,
)
from sqlalchemy.ext.asyncio import create_async_engine

from app.connectors.protocol import SubjectRef
from tests.connectors.builtin.test_sql_support import ScratchDb

TODAY = date(2026, 3, 2)


@dataclass(frozen=True)
class Customer:
    id: int
    email: str
    name: str
    ref: str

    def subject(self, **changes: Any) -> SubjectRef:
        data: dict[str, Any] = {"request_id": f"req-{self.id}", "emails": [self.email]}
        data.update(changes)
        return SubjectRef(**data)


DANA = Customer(1, "dana.dahl@example.test", "Dana Dahl", "K-DANA-501")
ERIK = Customer(2, "erik.eide@example.test", "Erik Eide", "K-ERIK-502")
FRIDA = Customer(3, "frida.fjeld@example.test", "Frida Fjeld", "K-FRIDA-503")


def invoice(
    id: int, customer: Customer, issued: date, due: date, paid: date | None, status: str
) -> dict[str, Any]:
    return {
        "id": id,
        "customer_ref": customer.id,
        "amount": Decimal("1250.00") + id,
        "issued_at": issued,
        "due_at": due,
        "paid_at": paid,
        "status": status,
        "billing_name": customer.name,
        "in_collection": False,
    }


INVOICES = [
    invoice(11, DANA, date(2019, 5, 2), date(2019, 5, 16), date(2019, 5, 10), "paid"),
    invoice(12, DANA, date(2025, 1, 2), date(2025, 1, 16), date(2025, 1, 10), "paid"),
    invoice(13, DANA, date(2026, 2, 1), date(2026, 2, 15), None, "sent"),
    invoice(21, ERIK, date(2025, 6, 1), date(2025, 6, 15), None, "sent_to_collection"),
    invoice(31, FRIDA, date(2018, 3, 1), date(2018, 3, 15), date(2018, 3, 5), "paid"),
]


def invoicing_metadata(schema: str | None) -> MetaData:
    md = MetaData(schema=schema)
    prefix = f"{schema}." if schema else ""
    Table(
        "customers",
        md,
        Column("id", Integer, primary_key=True),
        Column("email", String(200), nullable=False, unique=True),
        Column("name", String(200), nullable=False),
        Column("billing_address", Text),
    )
    Table(
        "invoices",
        md,
        Column("id", Integer, primary_key=True),
        Column("customer_ref", ForeignKey(f"{prefix}customers.id"), nullable=False, index=True),
        Column("amount", Numeric(12, 2), nullable=False),
        Column("issued_at", Date, nullable=False),
        Column("due_at", Date, nullable=False),
        Column("paid_at", Date),
        Column("status", String(32), nullable=False),
        Column("billing_name", String(200)),
        Column("in_collection", Boolean),
    )
    Table(
        "newsletter_signups",
        md,
        Column("id", Integer, primary_key=True),
        Column("customer_id", ForeignKey(f"{prefix}customers.id"), nullable=False, index=True),
        Column("signed_up_at", Date, nullable=False),
    )
    return md


async def create_invoicing(db: ScratchDb, customers: list[Customer]) -> None:
    md = invoicing_metadata(db.schema)
    ids = {c.id for c in customers}

    def table(name: str) -> Table:
        return md.tables[f"{db.schema}.{name}" if db.schema else name]

    engine = create_async_engine(db.url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(md.create_all)
            await conn.execute(
                insert(table("customers")),
                [
                    {
                        "id": c.id,
                        "email": c.email,
                        "name": c.name,
                        "billing_address": f"{c.id} Torget",
                    }
                    for c in customers
                ],
            )
            await conn.execute(
                insert(table("invoices")), [i for i in INVOICES if i["customer_ref"] in ids]
            )
            await conn.execute(
                insert(table("newsletter_signups")),
                [
                    {"id": c.id, "customer_id": c.id, "signed_up_at": date(2024, 1, c.id)}
                    for c in customers
                ],
            )
    finally:
        await engine.dispose()


MARKETING = {
    "name": "marketing",
    "description": "Newsletter sign-up",
    "purpose": "Direct marketing",
    "legal_basis": "GDPR 6(1)(a) consent",
    "automated_decisions": "none",
    "transfers": [],
    "retention": "until consent is withdrawn",
    "marketing": True,
    "consent_based": True,
}


def invoicing_config(db: ScratchDb, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "url": db.url,
        "schema": db.schema,
        "invoices": {"billing_columns": ["billing_name"]},
        "customers": {
            "match": {"email": {"column": "email", "case_insensitive": True}},
            "columns": [
                {"name": "email", "erase": "anonymise"},
                {"name": "name", "erase": "anonymise", "anonymise_with": "anonymised"},
                "billing_address",
            ],
        },
        "tables": [
            {
                "name": "newsletter_signups",
                "category": "marketing",
                "parent": {"column": "customer_id", "table": "customers"},
                "columns": ["signed_up_at"],
            }
        ],
        "categories": [MARKETING],
    }
    config.update(overrides)
    return config
