"""The invoicing connector: invoices, the holds they raise, and erasure around them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from app.connectors.builtin.invoicing import InvoicingConnector
from app.connectors.builtin.invoicing_config import InvoicingConfig
from app.connectors.builtin.invoicing_holds import InvoiceState, holds_for
from app.connectors.discovery import validate_connector_class
from app.connectors.errors import ConnectorConfigError
from app.connectors.protocol import ErasureOutcome, SubjectRef
from app.domain.retention import limitation_until
from tests.connectors.builtin.test_invoicing_support import (
    DANA,
    ERIK,
    FRIDA,
    TODAY,
    create_invoicing,
    invoicing_config,
)
from tests.connectors.builtin.test_sql_support import ScratchDb, example_config, scratch_database

ALL = ["invoices", "billing", "marketing"]


@pytest.fixture
async def db(backend: str, tmp_path: Path) -> AsyncIterator[ScratchDb]:
    async with scratch_database(backend, tmp_path) as scratch:
        await create_invoicing(scratch, [DANA, ERIK, FRIDA])
        yield scratch


def make(db: ScratchDb, today: date = TODAY, **overrides: Any) -> InvoicingConnector:
    return InvoicingConnector(
        name="billing", config=invoicing_config(db, **overrides), today=lambda: today
    )


@pytest.fixture
async def billing(db: ScratchDb) -> AsyncIterator[InvoicingConnector]:
    connector = make(db)
    yield connector
    await connector.aclose()


async def rows(db: ScratchDb, sql: str) -> list[tuple[Any, ...]]:
    engine = create_async_engine(db.url)
    try:
        async with engine.connect() as conn:
            if db.schema:
                await conn.execute(text(f'SET search_path TO "{db.schema}"'))
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]
    finally:
        await engine.dispose()


def test_the_class_passes_plugin_validation() -> None:
    assert validate_connector_class(InvoicingConnector, name="invoicing") is InvoicingConnector


def test_defaults_name_the_usual_columns_and_categories() -> None:
    config = InvoicingConfig.model_validate({"url": "sqlite+aiosqlite:///x.db"})
    assert config.invoices.name == "invoices"
    assert config.invoices.state_columns() == ["amount", "issued_at", "due_at", "paid_at", "status"]
    assert [c.name for c in config.all_categories()] == ["invoices"]
    mapping = config.mapping("billing")
    assert mapping.tables[0].match["customer_id"].column == "customer_ref"


def test_invoices_cannot_parent_other_tables() -> None:
    child = {
        "name": "lines",
        "category": "invoices",
        "parent": {"column": "invoice_id", "table": "invoices"},
        "columns": ["x"],
    }
    with pytest.raises(ValidationError, match="invoice rows cannot be parents"):
        InvoicingConfig.model_validate({"url": "sqlite+aiosqlite:///x.db", "tables": [child]})


async def test_check_names_a_wrong_column(db: ScratchDb) -> None:
    connector = make(db, invoices={"due_at": "due_date"})
    try:
        with pytest.raises(ConnectorConfigError, match="column invoices.due_date does not exist"):
            await connector.check()
    finally:
        await connector.aclose()


async def test_collect_returns_invoices_billing_and_marketing(billing: InvoicingConnector) -> None:
    result = await billing.collect(DANA.subject())
    grouped = result.by_category()
    assert sorted(grouped) == ["billing", "invoices", "marketing"]
    assert [r.id for r in grouped["invoices"]] == ["invoices:11", "invoices:12", "invoices:13"]
    assert grouped["invoices"][2].data == {
        "amount": "1263.00",
        "issued_at": "2026-02-01",
        "due_at": "2026-02-15",
        "paid_at": None,
        "status": "sent",
    }
    assert {r.id for r in grouped["billing"]} == {
        "customers:1",
        "invoices:11",
        "invoices:12",
        "invoices:13",
    }


async def test_holds_of_open_claims_and_booked_invoices(billing: InvoicingConnector) -> None:
    findings = await billing.find_holds(DANA.subject())
    summary = [(f.basis_code, f.until, f.reference) for f in findings]
    assert summary == [
        ("outstanding_claim", limitation_until(date(2026, 2, 15)), "invoice 13"),
        # Bokføringsloven § 13: five years after the END of the financial year.
        (
            "bookkeeping_primary",
            date(2030, 12, 31),
            "financial year ending 2025-12-31: 1 invoice(s)",
        ),
        (
            "bookkeeping_primary",
            date(2031, 12, 31),
            "financial year ending 2026-12-31: 1 invoice(s)",
        ),
    ]
    assert limitation_until(date(2026, 2, 15)) == date(2029, 2, 15)
    assert all(f.categories == ["invoices", "billing"] for f in findings)
    assert "until the invoice is settled" in (findings[0].condition or "")


async def test_debt_collection_is_its_own_basis(billing: InvoicingConnector) -> None:
    findings = await billing.find_holds(ERIK.subject())
    assert [(f.basis_code, f.until) for f in findings] == [
        ("debt_collection", date(2028, 6, 15)),
        ("bookkeeping_primary", date(2030, 12, 31)),
    ]


async def test_a_collection_flag_column_also_counts(db: ScratchDb) -> None:
    engine = create_async_engine(db.url)
    async with engine.begin() as conn:
        prefix = f'"{db.schema}".' if db.schema else ""
        await conn.execute(text(f"UPDATE {prefix}invoices SET in_collection = true WHERE id = 13"))
    await engine.dispose()
    connector = make(db, invoices={"collection_flag": "in_collection"})
    try:
        findings = await connector.find_holds(DANA.subject())
    finally:
        await connector.aclose()
    assert findings[0].basis_code == "debt_collection"


async def test_nothing_is_held_once_periods_have_ended(billing: InvoicingConnector) -> None:
    assert await billing.find_holds(FRIDA.subject()) == []
    assert await billing.find_holds(SubjectRef(request_id="r", emails=["x@example.test"])) == []


async def test_erase_keeps_held_invoices_and_deletes_the_rest(
    billing: InvoicingConnector, db: ScratchDb
) -> None:
    result = await billing.erase(DANA.subject(), ALL)
    summary = [(e.category, e.outcome, e.count, e.basis_code, e.until) for e in result.categories]
    assert summary == [
        ("invoices", ErasureOutcome.erased, 1, None, None),
        ("invoices", ErasureOutcome.held, 1, "outstanding_claim", date(2029, 2, 15)),
        ("invoices", ErasureOutcome.held, 2, "bookkeeping_primary", date(2031, 12, 31)),
        ("billing", ErasureOutcome.anonymised, 1, None, None),
        ("billing", ErasureOutcome.held, 1, "outstanding_claim", date(2029, 2, 15)),
        ("billing", ErasureOutcome.held, 2, "bookkeeping_primary", date(2031, 12, 31)),
        ("marketing", ErasureOutcome.erased, 1, None, None),
    ]
    # Field by field: the invoice's addressee stays, the contact channel goes.
    assert {(e.outcome, tuple(e.fields)) for e in result.categories if e.category == "billing"} == {
        (ErasureOutcome.anonymised, ("email",)),
        (ErasureOutcome.held, ("name", "billing_address")),
    }
    assert await rows(db, "SELECT id FROM invoices WHERE customer_ref = 1 ORDER BY id") == [
        (12,),
        (13,),
    ]
    [(name, address, email)] = await rows(
        db, "SELECT name, billing_address, email FROM customers WHERE id = 1"
    )
    assert (name, address) == (DANA.name, "1 Torget")
    assert email.startswith("anonymised-") and DANA.email not in email
    # The hold carries the register's key, so the kept rows are still found without e-mail.
    findings = await billing.find_holds(DANA.subject())
    assert findings == []
    by_key = SubjectRef(request_id="r", customer_ids={"billing": "1"})
    assert {f.basis_code for f in await billing.find_holds(by_key)} == {
        "outstanding_claim",
        "bookkeeping_primary",
    }
    assert await rows(db, "SELECT count(*) FROM newsletter_signups WHERE customer_id = 1") == [(0,)]
    again = await billing.erase(DANA.subject(), ALL)
    assert ("invoices", ErasureOutcome.erased) not in {
        (e.category, e.outcome) for e in again.categories
    }


async def test_when_the_holds_end_everything_goes(db: ScratchDb) -> None:
    """Settled, and past 31.12.2031: the follow-up erasure removes the rest."""
    engine = create_async_engine(db.url)
    async with engine.begin() as conn:
        prefix = f'"{db.schema}".' if db.schema else ""
        await conn.execute(text(f"UPDATE {prefix}invoices SET paid_at = due_at, status = 'paid'"))
    await engine.dispose()
    later = make(db, today=date(2032, 1, 2))
    try:
        assert await later.find_holds(DANA.subject()) == []
        result = await later.erase(DANA.subject(), ALL)
        assert [(e.category, e.outcome, e.count) for e in result.categories] == [
            ("invoices", ErasureOutcome.erased, 3),
            ("billing", ErasureOutcome.erased, 4),
            ("marketing", ErasureOutcome.erased, 1),
        ]
        assert (await later.collect(DANA.subject())).records == []
    finally:
        await later.aclose()
    assert await rows(db, "SELECT id FROM customers ORDER BY id") == [(2,), (3,)]


async def test_erase_only_the_categories_passed_in(
    billing: InvoicingConnector, db: ScratchDb
) -> None:
    result = await billing.erase(FRIDA.subject(), ["marketing"])
    assert [(e.category, e.outcome) for e in result.categories] == [
        ("marketing", ErasureOutcome.erased)
    ]
    assert await rows(db, "SELECT count(*) FROM invoices WHERE customer_ref = 3") == [(1,)]


async def test_a_june_financial_year_moves_the_bookkeeping_end(db: ScratchDb) -> None:
    connector = make(db, financial_year_end_month=6)
    try:
        findings = await connector.find_holds(DANA.subject())
    finally:
        await connector.aclose()
    # 2 Jan 2025 falls in the year ending 30.06.2025; 1 Feb 2026 in the one ending 30.06.2026.
    assert [f.until for f in findings if f.basis_code == "bookkeeping_primary"] == [
        date(2030, 6, 30),
        date(2031, 6, 30),
    ]


async def test_without_a_customer_table_the_customer_number_finds_invoices(
    db: ScratchDb,
) -> None:
    config = invoicing_config(db, customers=None, tables=[], categories=[])
    connector = InvoicingConnector(name="billing", config=config, today=lambda: TODAY)
    try:
        subject = SubjectRef(request_id="r", customer_ids={"billing": "1"})
        assert [r.id for r in (await connector.collect(subject)).by_category()["invoices"]] == [
            "invoices:11",
            "invoices:12",
            "invoices:13",
        ]
        assert [c.name for c in connector.categories()] == ["invoices", "billing"]
        assert await connector.find_holds(SubjectRef(request_id="r", emails=[DANA.email])) == []
    finally:
        await connector.aclose()


@pytest.mark.parametrize(
    ("state", "basis"),
    [
        (
            InvoiceState(
                1, date(2025, 3, 1), date(2025, 3, 15), settled=False, in_collection=False
            ),
            ["outstanding_claim", "bookkeeping_primary"],
        ),
        (
            InvoiceState(1, date(2025, 3, 1), date(2025, 3, 15), settled=True, in_collection=True),
            ["bookkeeping_primary"],
        ),
        (
            InvoiceState(1, date(2025, 3, 1), None, settled=False, in_collection=False, draft=True),
            [],
        ),
        (  # debt collection does not interrupt limitation: time-barred on 15.3.2023
            InvoiceState(1, date(2020, 3, 1), date(2020, 3, 15), settled=False, in_collection=True),
            [],
        ),
        (  # a legal step before the end does: held while the case goes on
            InvoiceState(
                1,
                date(2020, 3, 1),
                date(2020, 3, 15),
                settled=False,
                in_collection=True,
                legal_step_at=date(2022, 9, 1),
            ),
            ["debt_collection"],
        ),
    ],
    ids=["unpaid", "paid-after-collection", "draft", "old-claim-in-collection", "old-claim-sued"],
)
def test_hold_rules(state: InvoiceState, basis: list[str]) -> None:
    assert [f.basis_code for f in holds_for([state], ["invoices"], TODAY, 12)] == basis


def test_the_documented_example_config_is_valid() -> None:
    from app.connectors.builtin import invoicing

    config = InvoicingConfig.model_validate(example_config(invoicing.__doc__ or ""))
    assert config.invoices.collection_flag == "in_collection"
    assert [c.name for c in config.all_categories()] == ["invoices", "billing", "marketing"]
