"""Scratch CRM databases for the sql and invoicing connector tests (helpers only, no tests).

Each test gets its own database: a temp SQLite file, or a fresh schema in a PostgreSQL
database of its own on the throwaway server (never the app's database). The PostgreSQL URL
carries a password (the test server trusts loopback, so any password works): it is what the
secret-leak tests look for.
"""

from __future__ import annotations

import os
import secrets
import textwrap
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    insert,
    text,
)
from sqlalchemy.ext.asyncio import create_async_engine

from app.connectors.protocol import SubjectRef

PG_PASSWORD = "pg-secret-" + "s3cr3t"
_created: set[str] = set()


@dataclass(frozen=True)
class ScratchDb:
    url: str
    schema: str | None


def _pg_urls() -> tuple[str, str]:
    """(admin URL in asyncpg form, URL of this worker's CRM database with a password)."""
    base = os.environ.get("INNSYN_TEST_PG_URL")
    if not base:
        pytest.fail("PostgreSQL backend requested but INNSYN_TEST_PG_URL is not set")
    server, _, _ = base.rpartition("/")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with_password = server.replace("postgres@", f"postgres:{PG_PASSWORD}@", 1)
    return f"{server}/postgres", f"{with_password}/innsyn_crm_{worker}"


async def _ensure_pg_database(admin_url: str, url: str) -> None:
    name = url.rpartition("/")[2]
    if name in _created:
        return
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            exists = await conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
            )
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()
    _created.add(name)


@asynccontextmanager
async def scratch_database(backend: str, tmp_path: Path) -> AsyncIterator[ScratchDb]:
    """An empty database (SQLite file or PostgreSQL schema), removed afterwards."""
    if backend == "sqlite":
        yield ScratchDb(
            url=f"sqlite+aiosqlite:///{tmp_path / f'crm-{secrets.token_hex(4)}.db'}", schema=None
        )
        return
    admin_url, url = _pg_urls()
    await _ensure_pg_database(admin_url, url)
    schema = f"crm_{secrets.token_hex(6)}"
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        yield ScratchDb(url=url, schema=schema)
    finally:
        async with engine.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()


def crm_metadata(schema: str | None, *, index_notes: bool = True) -> MetaData:
    """customers <- orders <- order_lines, customers <- notes, and stand-alone contacts."""
    md = MetaData(schema=schema)
    prefix = f"{schema}." if schema else ""
    Table(
        "customers",
        md,
        Column("id", Integer, primary_key=True),
        Column("customer_no", String(32), nullable=False, unique=True),
        Column("email", String(200), nullable=False, unique=True),
        Column("name", String(200), nullable=False),
        Column("phone", String(32)),
        Column("national_id", String(11)),
        Column("address", Text),
        Column("newsletter", Boolean),
        Column("restricted", Boolean, nullable=False, server_default=text("false")),
    )
    Table(
        "orders",
        md,
        Column("id", Integer, primary_key=True),
        Column("customer_id", ForeignKey(f"{prefix}customers.id"), nullable=False, index=True),
        Column("order_date", Date, nullable=False),
        Column("total", Numeric(12, 2), nullable=False),
        Column("shipping_address", Text),
    )
    Table(
        "order_lines",
        md,
        Column("id", Integer, primary_key=True),
        Column("order_id", ForeignKey(f"{prefix}orders.id"), nullable=False, index=True),
        Column("product", String(100), nullable=False),
        Column("gift_message", Text),
    )
    notes = Table(
        "notes",
        md,
        Column("id", Integer, primary_key=True),
        Column("customer_id", ForeignKey(f"{prefix}customers.id"), nullable=False),
        Column("body", Text, nullable=False),
    )
    if index_notes:
        Index("notes_customer_id_idx", notes.c.customer_id)
    contacts = Table(
        "contacts",
        md,
        Column("id", Integer, primary_key=True),
        Column("email", String(200), nullable=False),
        Column("company", String(200)),
        Column("role", String(100)),
    )
    Index("contacts_email_idx", contacts.c.email)
    Index("customers_phone_idx", md.tables[f"{prefix}customers"].c.phone)
    return md


@dataclass(frozen=True)
class Person:
    """A seeded customer: row ids are derived from ``number`` so people never collide."""

    number: int
    email: str
    name: str
    phone: str
    customer_no: str
    national_id: str
    orders: int = 2
    notes: int = 2

    def subject(self, *, system: str = "crm", **changes: Any) -> SubjectRef:
        data: dict[str, Any] = {
            "request_id": f"req-{self.number}",
            "emails": [self.email],
            "phones": [],
            "customer_ids": {system: self.customer_no},
            "name": self.name,
        }
        data.update(changes)
        return SubjectRef(**data)


ALICE = Person(
    1, "alice.aasen@example.test", "Alice Aasen", "+4791111111", "C-AL-7731", "02013299997"
)
BOB = Person(2, "bob.berg@example.test", "Bob Berg", "+4792222222", "C-BO-4410", "30108299920")
CAROL = Person(
    3, "carol.cruz@example.test", "Carol Cruz", "+4793333333", "C-CA-9902", "10108299940"
)


def person_rows(person: Person) -> dict[str, list[dict[str, Any]]]:
    n = person.number
    orders: list[dict[str, Any]] = [
        {
            "id": n * 100 + i,
            "customer_id": n,
            "order_date": date(2025, 1 + i, 10),
            "total": Decimal("199.50") + i,
            "shipping_address": f"{n} Fjordveien, Bergen",
        }
        for i in range(person.orders)
    ]
    lines = [
        {"id": o["id"] * 10 + j, "order_id": o["id"], "product": f"Item {j}", "gift_message": None}
        for o in orders
        for j in range(2)
    ]
    if lines:
        lines[0]["gift_message"] = f"Happy birthday from {person.name}"
    return {
        "customers": [
            {
                "id": n,
                "customer_no": person.customer_no,
                "email": person.email,
                "name": person.name,
                "phone": person.phone,
                "national_id": person.national_id,
                "address": f"{n} Storgata, Oslo",
                "newsletter": True,
            }
        ],
        "orders": orders,
        "order_lines": lines,
        "notes": [
            {"id": n * 100 + i, "customer_id": n, "body": f"Called about delivery ({i})"}
            for i in range(person.notes)
        ],
        "contacts": [{"id": n, "email": person.email, "company": "Fjord AS", "role": "buyer"}],
    }


async def create_crm(
    db: ScratchDb, people: Sequence[Person], *, index_notes: bool = True
) -> MetaData:
    md = crm_metadata(db.schema, index_notes=index_notes)
    engine = create_async_engine(db.url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(md.create_all)
            for name in ("customers", "orders", "order_lines", "notes", "contacts"):
                table = md.tables[f"{db.schema}.{name}" if db.schema else name]
                rows = [row for p in people for row in person_rows(p)[name]]
                if rows:
                    await conn.execute(insert(table), rows)
    finally:
        await engine.dispose()
    return md


CATEGORIES: list[dict[str, Any]] = [
    {
        "name": "contact",
        "description": "Name, e-mail, phone, national id and address",
        "purpose": "Customer relationship",
        "legal_basis": "GDPR 6(1)(b) contract",
        "automated_decisions": "none",
        "transfers": [],
        "recipients": ["Support desk provider (processor)"],
        "retention": "3.5 years after the customer relationship ends",
    },
    {
        "name": "marketing",
        "description": "Newsletter subscription",
        "purpose": "Direct marketing",
        "legal_basis": "GDPR 6(1)(a) consent",
        "automated_decisions": "none",
        "transfers": [],
        "retention": "until consent is withdrawn",
        "marketing": True,
        "consent_based": True,
    },
    {
        "name": "orders",
        "description": "Orders and delivery addresses",
        "purpose": "Delivering what the customer bought",
        "legal_basis": "GDPR 6(1)(b) contract",
        "automated_decisions": "none",
        "transfers": [],
        "retention": "3.5 years after the end of the financial year",
    },
    {
        "name": "order_lines",
        "description": "Products ordered and gift messages",
        "purpose": "Delivering what the customer bought",
        "legal_basis": "GDPR 6(1)(b) contract",
        "automated_decisions": "none",
        "transfers": [],
        "retention": "3.5 years after the end of the financial year",
    },
    {
        "name": "notes",
        "description": "Notes from support conversations",
        "purpose": "Customer support",
        "legal_basis": "GDPR 6(1)(f) legitimate interest",
        "automated_decisions": "none",
        "transfers": [],
        "retention": "2 years",
        "provided_by_subject": False,
        "source": "support staff",
    },
    {
        "name": "b2b_contacts",
        "description": "Contact person at a business customer",
        "purpose": "Business relationship",
        "legal_basis": "GDPR 6(1)(f) legitimate interest",
        "automated_decisions": "none",
        "transfers": [],
        "retention": "while the person is the registered contact",
    },
]


def crm_config(db: ScratchDb, **overrides: Any) -> dict[str, Any]:
    """A sql connector config over the scratch CRM; ``overrides`` replace top-level keys."""
    config: dict[str, Any] = {
        "url": db.url,
        "schema": db.schema,
        "categories": CATEGORIES,
        "tables": [
            {
                "name": "customers",
                "category": "contact",
                "match": {
                    "email": {"column": "email", "case_insensitive": True},
                    "phone": "phone",
                    "national_id": "national_id",
                    "customer_id": "customer_no",
                },
                "columns": [
                    {"name": "email", "erase": "anonymise"},
                    {"name": "name", "erase": "anonymise", "anonymise_with": "anonymised"},
                    "phone",
                    "national_id",
                    "address",
                    {"name": "newsletter", "category": "marketing"},
                ],
            },
            {
                "name": "orders",
                "category": "orders",
                "parent": {"column": "customer_id", "table": "customers"},
                "columns": ["order_date", "total", "shipping_address"],
            },
            {
                "name": "order_lines",
                "category": "order_lines",
                "parent": {"column": "order_id", "table": "orders"},
                "columns": ["product", "gift_message"],
            },
            {
                "name": "notes",
                "category": "notes",
                "parent": {"column": "customer_id", "table": "customers"},
                "columns": ["body"],
            },
            {
                "name": "contacts",
                "category": "b2b_contacts",
                "match": {"email": "email"},
                "columns": ["email", "company", "role"],
            },
        ],
        "rectify": {
            "name": "customers.name",
            "email": "customers.email",
            "phone": "customers.phone",
            "address": "customers.address",
        },
    }
    config.update(overrides)
    return config


def example_config(module_doc: str) -> dict[str, Any]:
    """The YAML example in a connector module's docstring, as the loader would read it."""
    block = module_doc.split("::\n\n", 1)[1]
    lines = []
    for line in block.splitlines():
        if line and not line.startswith(" "):
            break
        lines.append(line)
    (entry,) = yaml.safe_load(textwrap.dedent("\n".join(lines)))
    return dict(entry["config"])
