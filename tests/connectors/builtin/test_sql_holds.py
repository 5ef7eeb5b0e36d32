"""The sql connector's `holds:` rules against a real CRM (SQLite file and PostgreSQL schema):
a B2B contact on an active contract is kept, one hold per company; nobody else is."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, insert, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.connectors.builtin import sql_holds
from app.connectors.builtin.sql import (
    HoldFindingSqlConnector,
    RestrictableHoldFindingSqlConnector,
    RestrictableSqlConnector,
    SqlConfig,
    SqlConnector,
)
from app.connectors.discovery import validate_connector_class
from app.connectors.errors import ConnectorConfigError
from app.connectors.protocol import Capability, ErasureOutcome, HoldFinding
from tests.connectors.builtin.test_sql_support import (
    ALICE,
    BOB,
    CAROL,
    ScratchDb,
    create_crm,
    crm_config,
    example_config,
    scratch_database,
)

CONDITION = "while the person is the registered contact on an active contract"
B2B = "b2b_contacts"  # the scratch CRM's category for contact people at business customers


def contact_row(
    row_id: int, person: Any, org_number: str, company: str, *, active: bool, role: str = "buyer"
) -> dict[str, Any]:
    return {
        "id": row_id,
        "org_number": org_number,
        "company_name": company,
        "contact_name": person.name,
        "contact_email": person.email.upper() if row_id % 2 else person.email,
        "contact_phone": person.phone,
        "role": role,
        "contract_active": active,
    }


CONTACT_ROWS: list[dict[str, Any]] = [
    contact_row(1, CAROL, "999888777", "Fjordlys Elektro AS", active=True),
    contact_row(2, CAROL, "912345670", "Havbris Regnskap AS", active=True),
    contact_row(3, CAROL, "999888777", "Fjordlys Elektro AS", active=True, role="invoices"),
    contact_row(4, CAROL, "987654321", "Nordlys Bygg AS", active=False),
    contact_row(5, BOB, "923609016", "Tindevik Transport AS", active=False),
]
"""Carol: the contact on two active contracts (twice at one company) and an ended one.
Bob: only on an ended contract. Alice: never a contact at a company."""


async def create_company_contacts(
    db: ScratchDb, contacts: Sequence[dict[str, Any]] = CONTACT_ROWS
) -> None:
    md = MetaData(schema=db.schema)
    table = Table(
        "company_contacts",
        md,
        Column("id", Integer, primary_key=True),
        Column("org_number", String(9), nullable=False),
        Column("company_name", String(200), nullable=False),
        Column("contact_name", String(200)),
        Column("contact_email", String(200), nullable=False),
        Column("contact_phone", String(32)),
        Column("role", String(100)),
        Column("contract_active", Boolean, nullable=False),
    )
    Index("company_contacts_email_idx", table.c.contact_email)
    engine = create_async_engine(db.url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(md.create_all)
            if contacts:
                await conn.execute(insert(table), list(contacts))
    finally:
        await engine.dispose()


async def rows(db: ScratchDb, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    """Read the scratch database directly, beside the connector."""
    engine = create_async_engine(db.url)
    try:
        async with engine.connect() as conn:
            if db.schema:
                await conn.execute(text(f'SET search_path TO "{db.schema}"'))
            return [tuple(r) for r in (await conn.execute(text(sql), params)).all()]
    finally:
        await engine.dispose()


def b2b_rule(**changes: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "basis_code": "b2b_contact",
        "table": "company_contacts",
        "where": {"contract_active": True},
        "categories": [B2B],
        "reference_column": "org_number",
    }
    rule.update(changes)
    return rule


def holds_config(db: ScratchDb, *rules: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """The scratch CRM's config plus company_contacts (category b2b_contacts) and hold rules."""
    config = crm_config(db, **overrides)
    config["tables"] = [
        *config["tables"],
        {
            "name": "company_contacts",
            "category": B2B,
            "match": {"email": {"column": "contact_email", "case_insensitive": True}},
            "columns": ["contact_name", "contact_email", "contact_phone", "role"],
        },
    ]
    config["holds"] = list(rules) if rules else [b2b_rule()]
    return config


@pytest.fixture
async def db(backend: str, tmp_path: Path) -> AsyncIterator[ScratchDb]:
    async with scratch_database(backend, tmp_path) as scratch:
        await create_crm(scratch, [ALICE, BOB, CAROL])
        await create_company_contacts(scratch)
        yield scratch


@pytest.fixture
async def crm(db: ScratchDb) -> AsyncIterator[SqlConnector]:
    connector = SqlConnector(name="crm", config=holds_config(db))
    yield connector
    await connector.aclose()


def b2b_hold(reference: str | None) -> HoldFinding:
    return HoldFinding(
        basis_code="b2b_contact", categories=[B2B], condition=CONDITION, reference=reference
    )


# ----- which class, which capabilities -----


@pytest.mark.parametrize(
    ("restriction", "holds", "cls", "extra"),
    [
        (False, False, SqlConnector, set()),
        (True, False, RestrictableSqlConnector, {Capability.restrict}),
        (False, True, HoldFindingSqlConnector, {Capability.holds}),
        (
            True,
            True,
            RestrictableHoldFindingSqlConnector,
            {Capability.restrict, Capability.holds},
        ),
    ],
)
def test_the_config_picks_a_class_that_declares_exactly_its_capabilities(
    restriction: bool, holds: bool, cls: type[SqlConnector], extra: set[Capability]
) -> None:
    scratch = ScratchDb(url="sqlite+aiosqlite:///unused.db", schema=None)
    flags = [{"table": "customers", "column": "restricted"}] if restriction else []
    config = holds_config(scratch, restriction=flags)
    if not holds:
        config["holds"] = []
    connector = SqlConnector(name="crm", config=config)
    assert type(connector) is cls
    assert connector.capabilities == SqlConnector.capabilities | extra
    assert validate_connector_class(cls, name="sql") is cls
    assert hasattr(cls, "restrict") == restriction
    assert hasattr(cls, "find_holds") == holds


def test_the_documented_example_config_is_valid() -> None:
    config = SqlConfig.model_validate(example_config(sql_holds.__doc__ or ""))
    [rule] = config.holds
    assert (rule.basis_code, rule.table, rule.where) == (
        "b2b_contact",
        "company_contacts",
        {"contract_active": True},
    )
    assert rule.reference_column == "org_number"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (b2b_rule(basis_code="b2b"), "unknown hold basis 'b2b'"),
        (b2b_rule(categories=["contracts"]), r"categories \['contracts'\] are not declared"),
        (b2b_rule(table="contracts"), "table contracts is not mapped"),
        (b2b_rule(reference_column="contact_email"), "is personal data"),
        (b2b_rule(where={"contract active": True}), "should match pattern"),
        (b2b_rule(where={"contract_active": [True]}), "contract_active"),
        (b2b_rule(basis_code="legal_claim"), "give a `condition` for basis legal_claim"),
        (b2b_rule(categories=[]), "at least 1 item"),
        (b2b_rule(untill="2030-01-01"), "Extra inputs are not permitted"),
    ],
)
def test_invalid_hold_rules_are_refused_with_the_reason(rule: dict[str, Any], message: str) -> None:
    scratch = ScratchDb(url="sqlite+aiosqlite:///unused.db", schema=None)
    with pytest.raises(ValidationError, match=message):
        SqlConnector(name="crm", config=holds_config(scratch, rule))


# ----- finding holds -----


async def test_an_active_contact_has_one_hold_per_company(crm: SqlConnector) -> None:
    assert isinstance(crm, HoldFindingSqlConnector)
    findings = await crm.find_holds(CAROL.subject())
    assert findings == [b2b_hold("org_number 912345670"), b2b_hold("org_number 999888777")]
    assert await crm.find_holds(CAROL.subject()) == findings  # stable when asked again


async def test_an_ended_contract_or_no_contract_raises_no_hold(crm: SqlConnector) -> None:
    assert isinstance(crm, HoldFindingSqlConnector)
    assert await crm.find_holds(BOB.subject()) == []
    assert await crm.find_holds(ALICE.subject()) == []
    nobody = ALICE.subject(emails=["nobody@example.test"], customer_ids={})
    assert await crm.find_holds(nobody) == []


async def test_without_a_reference_column_one_hold_per_rule(db: ScratchDb) -> None:
    rule = b2b_rule(reference_column=None, condition="while the contract is active")
    connector = SqlConnector(name="crm", config=holds_config(db, rule))
    try:
        assert isinstance(connector, HoldFindingSqlConnector)
        [finding] = await connector.find_holds(CAROL.subject())
        assert (finding.reference, finding.condition) == (None, "while the contract is active")
        assert await connector.find_holds(BOB.subject()) == []
    finally:
        await connector.aclose()


async def test_a_rule_on_a_child_table_reaches_the_person_through_the_parent(
    db: ScratchDb,
) -> None:
    """Orders link to the person through customers: a rule there matches like collect does."""
    rule = {
        "basis_code": "consumer_complaint",
        "table": "orders",
        "where": {},
        "categories": ["orders", "order_lines"],
        "condition": "while the goods may still be complained about",
    }
    connector = SqlConnector(name="crm", config=holds_config(db, rule))
    try:
        assert isinstance(connector, HoldFindingSqlConnector)
        [finding] = await connector.find_holds(ALICE.subject(emails=[]))  # customer number only
        assert finding.categories == ["orders", "order_lines"]
    finally:
        await connector.aclose()


# ----- erasure keeps what a hold keeps -----


async def test_erasure_keeps_the_active_contacts_data_and_erases_the_rest(
    crm: SqlConnector, db: ScratchDb
) -> None:
    names = [c.name for c in crm.categories()]
    result = await crm.erase(CAROL.subject(), names)
    by_category = {e.category: e for e in result.categories}
    assert [e.category for e in result.categories] == names  # the order asked for
    held = by_category[B2B]
    assert (held.outcome, held.basis_code, held.count, held.reason) == (
        ErasureOutcome.held,
        "b2b_contact",
        2,
        CONDITION,
    )
    assert by_category["marketing"].outcome is ErasureOutcome.erased
    assert by_category["notes"].outcome is ErasureOutcome.erased
    assert await rows(db, "SELECT id FROM customers WHERE id = :n", n=CAROL.number) == []
    kept = await rows(db, "SELECT id FROM company_contacts WHERE id <= 4 ORDER BY id")
    assert kept == [(1,), (2,), (3,), (4,)]
    assert await rows(db, "SELECT id FROM contacts WHERE id = :n", n=CAROL.number) == [
        (CAROL.number,)
    ]


async def test_a_contact_on_an_ended_contract_is_erased(crm: SqlConnector, db: ScratchDb) -> None:
    result = await crm.erase(BOB.subject(), [B2B, "marketing"])
    assert {(e.category, e.outcome) for e in result.categories} == {
        (B2B, ErasureOutcome.erased),
        ("marketing", ErasureOutcome.erased),
    }
    assert await rows(db, "SELECT id FROM company_contacts WHERE id = 5") == []
    assert await rows(db, "SELECT id FROM company_contacts ORDER BY id") == [
        (1,),
        (2,),
        (3,),
        (4,),
    ]


async def test_erasing_only_unheld_categories_leaves_the_contact_untouched(
    crm: SqlConnector, db: ScratchDb
) -> None:
    """What the planner sends once a hold is recorded: the held category is not asked for."""
    result = await crm.erase(CAROL.subject(), ["marketing"])
    assert [(e.category, e.outcome) for e in result.categories] == [
        ("marketing", ErasureOutcome.erased)
    ]
    assert len(await rows(db, "SELECT id FROM company_contacts")) == len(CONTACT_ROWS)


# ----- the rules checked against the real schema -----


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (b2b_rule(where={"contract_activ": True}), "column company_contacts.contract_activ"),
        (b2b_rule(reference_column="org_no"), "column company_contacts.org_no does not exist"),
        (
            b2b_rule(where={"contract_active": "perhaps"}),
            "value for company_contacts.contract_active does not fit",
        ),
    ],
)
async def test_rules_that_do_not_fit_the_schema_are_config_errors(
    db: ScratchDb, rule: dict[str, Any], message: str
) -> None:
    connector = SqlConnector(name="crm", config=holds_config(db, rule))
    try:
        assert isinstance(connector, HoldFindingSqlConnector)
        with pytest.raises(ConnectorConfigError, match=message):
            await connector.check()
        with pytest.raises(ConnectorConfigError, match=message) as raised:
            await connector.find_holds(CAROL.subject())
        assert CAROL.email not in str(raised.value) and "perhaps" not in str(raised.value)
    finally:
        await connector.aclose()


async def test_check_passes_and_values_are_converted_to_the_column_type(db: ScratchDb) -> None:
    rule = b2b_rule(where={"contract_active": "true", "role": "invoices"})
    connector = SqlConnector(name="crm", config=holds_config(db, rule))
    try:
        assert (await connector.check()).ok
        assert isinstance(connector, HoldFindingSqlConnector)
        assert await connector.find_holds(CAROL.subject()) == [b2b_hold("org_number 999888777")]
    finally:
        await connector.aclose()
