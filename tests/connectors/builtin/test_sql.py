"""The sql connector against a real CRM database (SQLite file and PostgreSQL schema)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import event, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.connectors.builtin.sql import RestrictableSqlConnector, SqlConfig, SqlConnector
from app.connectors.discovery import validate_connector_class
from app.connectors.errors import (
    ConnectorConfigError,
    ConnectorPermanentError,
    ConnectorTransientError,
)
from app.connectors.protocol import Capability, ErasureOutcome, SubjectRef
from tests.connectors.builtin.test_sql_support import (
    ALICE,
    BOB,
    CAROL,
    PG_PASSWORD,
    ScratchDb,
    create_crm,
    crm_config,
    example_config,
    scratch_database,
)


@pytest.fixture
async def db(backend: str, tmp_path: Path) -> AsyncIterator[ScratchDb]:
    async with scratch_database(backend, tmp_path) as scratch:
        await create_crm(scratch, [ALICE, BOB, CAROL])
        yield scratch


@pytest.fixture
async def crm(db: ScratchDb) -> AsyncIterator[SqlConnector]:
    connector = SqlConnector(name="crm", config=crm_config(db))
    yield connector
    await connector.aclose()


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


def by_category(result: Any) -> dict[str, list[Any]]:
    return {k: sorted(r.id for r in v) for k, v in result.by_category().items()}


# ----- the class and its configuration -----


def test_the_class_passes_plugin_validation() -> None:
    assert validate_connector_class(SqlConnector, name="sql") is SqlConnector
    assert validate_connector_class(RestrictableSqlConnector, name="sql")
    assert not hasattr(SqlConnector, "restrict")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"categories": []}, "at least 1"),
        (
            {
                "tables": [
                    {"name": "t", "category": "nope", "match": {"email": "e"}, "columns": ["e"]}
                ]
            },
            "not declared",
        ),
        (
            {"tables": [{"name": "t", "category": "contact", "columns": ["e"]}]},
            "exactly one of `match` or `parent`",
        ),
        (
            {
                "tables": [
                    {
                        "name": "a",
                        "category": "contact",
                        "parent": {"column": "b_id", "table": "b"},
                        "columns": ["x"],
                    },
                    {
                        "name": "b",
                        "category": "contact",
                        "parent": {"column": "a_id", "table": "a"},
                        "columns": ["y"],
                    },
                ]
            },
            "cycle",
        ),
        ({"rectify": {"name": "customers"}}, "table.column"),
        ({"rectify": {"name": "people.name"}}, "people is not mapped"),
        (
            {
                "tables": [
                    {
                        "name": "t",
                        "category": "contact",
                        "match": {"email": "e"},
                        "columns": [{"name": "e", "anonymise_with": "{random}"}],
                    }
                ]
            },
            "needs fixed text",
        ),
        (
            {
                "tables": [
                    {
                        "name": "bad name",
                        "category": "contact",
                        "match": {"email": "e"},
                        "columns": ["e"],
                    }
                ]
            },
            "pattern",
        ),
    ],
)
def test_config_is_validated(change: dict[str, Any], message: str) -> None:
    config = crm_config(ScratchDb(url="sqlite+aiosqlite:///x.db", schema=None), **change)
    with pytest.raises(ValidationError, match=message):
        SqlConfig.model_validate(config)


def test_the_url_is_secret_in_repr(db: ScratchDb) -> None:
    config = SqlConfig.model_validate(crm_config(db))
    connector = SqlConnector(name="crm", config=config)
    assert db.url not in repr(config) and db.url not in repr(connector)
    assert PG_PASSWORD not in repr(config.model_dump())


# ----- check -----


async def test_check_reports_the_mapping_and_missing_indexes(backend: str, tmp_path: Path) -> None:
    async with scratch_database(backend, tmp_path) as scratch:
        await create_crm(scratch, [ALICE], index_notes=False)
        connector = SqlConnector(name="crm", config=crm_config(scratch))
        try:
            health = await connector.check()
        finally:
            await connector.aclose()
    assert health.ok
    assert "5 tables mapped" in health.detail
    # notes.customer_id has no index here; customers.email needs one on lower(email).
    assert "notes.customer_id" in health.detail
    assert "customers.lower(email)" in health.detail
    assert "orders.customer_id" not in health.detail
    assert "contacts.email" not in health.detail


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("tables", 4, "name"), "contcts", "table contcts does not exist"),
        (("tables", 1, "columns", 1), "totl", "column orders.totl does not exist"),
        (("tables", 1, "parent", "column"), "client_id", "column orders.client_id does not exist"),
        (("rectify", "phone"), "customers.mobile", "column customers.mobile does not exist"),
        (("tables", 0, "columns", 1), {"name": "name", "erase": "null"}, "name is NOT NULL"),
        (("tables", 1, "columns", 1), {"name": "total", "erase": "anonymise"}, "not text"),
    ],
)
async def test_check_names_the_wrong_table_or_column(
    db: ScratchDb, path: tuple[Any, ...], value: Any, message: str
) -> None:
    config = crm_config(db)
    target: Any = config
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    connector = SqlConnector(name="crm", config=config)
    try:
        with pytest.raises(ConnectorConfigError, match=message):
            await connector.check()
        with pytest.raises(ConnectorConfigError, match=message):
            await connector.collect(ALICE.subject())
    finally:
        await connector.aclose()


# ----- collect -----


async def test_collect_groups_the_persons_rows_by_category(crm: SqlConnector) -> None:
    result = await crm.collect(ALICE.subject())
    assert by_category(result) == {
        "contact": ["customers:1"],
        "marketing": ["customers:1"],
        "orders": ["orders:100", "orders:101"],
        "order_lines": [
            "order_lines:1000",
            "order_lines:1001",
            "order_lines:1010",
            "order_lines:1011",
        ],
        "notes": ["notes:100", "notes:101"],
        "b2b_contacts": ["contacts:1"],
    }
    grouped = result.by_category()
    assert grouped["contact"][0].data == {
        "email": ALICE.email,
        "name": ALICE.name,
        "phone": ALICE.phone,
        "national_id": ALICE.national_id,
        "address": "1 Storgata, Oslo",
    }
    assert grouped["marketing"][0].data == {"newsletter": True}
    # Exact decimals and ISO dates: the answer is JSON.
    assert grouped["orders"][0].data == {
        "order_date": "2025-01-10",
        "total": "199.50",
        "shipping_address": "1 Fjordveien, Bergen",
    }
    assert [r.category for r in result.records][:2] == ["contact", "marketing"]


@pytest.mark.parametrize(
    "subject",
    [
        SubjectRef(request_id="r", emails=["ALICE.Aasen@Example.TEST"]),
        SubjectRef(request_id="r", phones=[ALICE.phone]),
        SubjectRef(request_id="r", national_id=ALICE.national_id),
        SubjectRef(request_id="r", customer_ids={"crm": ALICE.customer_no, "shop": "x"}),
    ],
    ids=["email-any-case", "phone", "national-id", "customer-number"],
)
async def test_collect_finds_the_person_by_any_identifier(
    crm: SqlConnector, subject: SubjectRef
) -> None:
    result = await crm.collect(subject)
    assert {r.id for r in result.by_category()["contact"]} == {"customers:1"}
    assert len(result.by_category()["orders"]) == 2


async def test_collect_without_a_known_identifier_runs_no_query(crm: SqlConnector) -> None:
    statements: list[str] = []
    await crm.check()  # reflect first; only the collect's statements are counted
    event.listen(
        crm.engine.sync_engine, "before_cursor_execute", lambda *a: statements.append(a[2])
    )
    result = await crm.collect(SubjectRef(request_id="r", customer_ids={"other": "C-AL-7731"}))
    assert result.records == []
    assert statements == []


async def test_collect_of_one_person_in_a_large_table_reads_only_their_rows(
    backend: str, tmp_path: Path
) -> None:
    """Every statement filters on bound identifiers, and rows arrive in small batches."""
    from tests.connectors.builtin.test_sql_support import Person

    crowd = [
        Person(n, f"p{n}@example.test", f"P {n}", f"+47{40000000 + n}", f"C-{n}", "")
        for n in range(10, 1510)
    ]
    async with scratch_database(backend, tmp_path) as scratch:
        await create_crm(scratch, [ALICE, *crowd])
        connector = SqlConnector(name="crm", config=crm_config(scratch, batch_size=1))
        try:
            await connector.check()
            seen: list[tuple[str, Any]] = []

            def record(_conn: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
                seen.append((statement, params))

            event.listen(connector.engine.sync_engine, "before_cursor_execute", record)
            result = await connector.collect(ALICE.subject())
        finally:
            await connector.aclose()
    assert len(result.by_category()["order_lines"]) == 4
    selects = [(s, p) for s, p in seen if s.lstrip().upper().startswith(("SELECT", "DECLARE"))]
    # One read per table; a table where the person has more rows than a batch is read again,
    # a batch at a time.
    more_than_a_batch = [s for s, _p in selects if " LIMIT " not in s.upper()]
    assert len(selects) == 5 + len(more_than_a_batch), selects
    assert more_than_a_batch, "order lines (4) are more than a batch (1)"
    for statement, params in selects:
        assert re.search(r"\bWHERE\b", statement), statement
        flat = str(params)
        assert ALICE.email in flat, (statement, params)
        assert ALICE.email not in statement and ALICE.customer_no not in statement
    assert all(r.data.get("email") in (None, ALICE.email) for r in result.records)


async def test_collect_streams_more_than_a_batch_through_a_server_side_cursor(
    db: ScratchDb,
) -> None:
    """A person's rows within one batch come in one plain read; more than a batch are
    streamed (``yield_per``: the connection runs a server-side cursor)."""
    connector = SqlConnector(name="crm", config=crm_config(db, batch_size=1))
    try:
        await connector.check()
        used: list[tuple[str, bool]] = []

        def record(_conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            used.append((statement, "_ss_cursor" in type(cursor).__name__))

        event.listen(connector.engine.sync_engine, "before_cursor_execute", record)
        result = await connector.collect(ALICE.subject())
    finally:
        await connector.aclose()
    assert len(result.by_category()["order_lines"]) == 4
    streamed = [statement for statement, cursor in used if cursor]
    plain = [statement for statement, cursor in used if not cursor]
    assert streamed and all(" LIMIT " not in s.upper() for s in streamed)
    assert plain and all(" LIMIT " in s.upper() for s in plain)


# ----- erase -----


async def test_erase_everything_deletes_children_before_parents(
    crm: SqlConnector, db: ScratchDb
) -> None:
    names = [c.name for c in crm.categories()]
    result = await crm.erase(ALICE.subject(), names)
    outcomes = {e.category: (e.outcome, e.count) for e in result.categories}
    assert outcomes == {
        "contact": (ErasureOutcome.erased, 1),
        "marketing": (ErasureOutcome.erased, 1),
        "orders": (ErasureOutcome.erased, 2),
        "order_lines": (ErasureOutcome.erased, 4),
        "notes": (ErasureOutcome.erased, 2),
        "b2b_contacts": (ErasureOutcome.erased, 1),
    }
    assert (await crm.collect(ALICE.subject())).records == []
    assert await rows(db, "SELECT id FROM customers ORDER BY id") == [(2,), (3,)]
    assert await rows(db, "SELECT count(*) FROM order_lines") == [(8,)]
    again = await crm.erase(ALICE.subject(), names)
    assert {(e.outcome, e.count) for e in again.categories} == {(ErasureOutcome.not_found, 0)}


async def test_erase_one_column_category_nulls_only_that_column(
    crm: SqlConnector, db: ScratchDb
) -> None:
    result = await crm.erase(ALICE.subject(), ["marketing"])
    assert [(e.category, e.outcome, e.count) for e in result.categories] == [
        ("marketing", ErasureOutcome.erased, 1)
    ]
    assert await rows(db, "SELECT newsletter, name FROM customers WHERE id = 1") == [
        (None, ALICE.name)
    ]
    after = await crm.collect(ALICE.subject())
    assert "marketing" not in after.by_category()
    assert len(after.by_category()["orders"]) == 2
    again = await crm.erase(ALICE.subject(), ["marketing"])
    assert again.categories[0].outcome is ErasureOutcome.not_found


async def test_erase_keeps_a_parent_whose_children_are_kept(
    crm: SqlConnector, db: ScratchDb
) -> None:
    """Orders are held: the customer row stays (foreign keys), anonymised but still findable."""
    result = await crm.erase(ALICE.subject(), ["contact", "marketing", "notes", "b2b_contacts"])
    entries = {(e.category, e.outcome) for e in result.categories}
    assert ("contact", ErasureOutcome.anonymised) in entries
    assert ("contact", ErasureOutcome.not_erasable) in entries
    reason = next(e.reason for e in result.categories if e.outcome is ErasureOutcome.not_erasable)
    assert reason is not None and "customers.email" in reason
    (row,) = await rows(
        db, "SELECT email, name, phone, address, newsletter FROM customers WHERE id = 1"
    )
    assert row == (ALICE.email, "anonymised", None, None, None)
    assert await rows(db, "SELECT count(*) FROM notes WHERE customer_id = 1") == [(0,)]
    after = await crm.collect(ALICE.subject())
    assert sorted(after.by_category()) == ["contact", "order_lines", "orders"]
    assert after.by_category()["contact"][0].data["email"] == ALICE.email
    # When the hold ends, the rest goes: the row can now be deleted.
    final = await crm.erase(ALICE.subject(), [c.name for c in crm.categories()])
    assert all(e.outcome is not ErasureOutcome.not_erasable for e in final.categories)
    assert await rows(db, "SELECT count(*) FROM customers WHERE id = 1") == [(0,)]


async def test_anonymised_unique_columns_stay_unique(crm: SqlConnector, db: ScratchDb) -> None:
    """Random replacements: two people anonymised in a UNIQUE e-mail column do not collide."""
    keep_orders = ["contact", "marketing", "notes", "b2b_contacts"]
    await crm.erase(ALICE.subject(), keep_orders)
    await crm.erase(BOB.subject(), keep_orders)
    await crm.erase(ALICE.subject(), [*keep_orders, "orders", "order_lines"])
    await crm.erase(BOB.subject(), [*keep_orders, "orders", "order_lines"])
    assert await rows(db, "SELECT id FROM customers") == [(3,)]


async def test_anonymise_never_writes_a_reversible_value(db: ScratchDb) -> None:
    config = crm_config(db)
    config["tables"][0]["erase"] = "anonymise"
    columns = config["tables"][0]["columns"]
    columns[3] = {"name": "national_id", "anonymise_with": "x{random}"}  # varchar(11)
    columns[5] = {"name": "newsletter", "category": "marketing", "erase": "null"}
    connector = SqlConnector(name="crm", config=config)
    try:
        await connector.erase(ALICE.subject(), [c.name for c in connector.categories()])
        await connector.erase(CAROL.subject(), [c.name for c in connector.categories()])
    finally:
        await connector.aclose()
    (alice, carol) = await rows(
        db, "SELECT email, national_id FROM customers WHERE id IN (1, 3) ORDER BY id"
    )
    assert alice[0].startswith("anonymised-") and alice[0] != carol[0]
    assert alice[1] != carol[1] and ALICE.national_id not in alice[1]
    # The primary key and the row stay; the person is gone from it.
    assert await rows(db, "SELECT count(*) FROM orders WHERE customer_id = 1") == [(0,)]


async def test_erase_reports_unknown_categories_as_not_found(crm: SqlConnector) -> None:
    result = await crm.erase(ALICE.subject(), ["shoe_size"])
    assert [(e.category, e.outcome) for e in result.categories] == [
        ("shoe_size", ErasureOutcome.not_found)
    ]


async def test_never_erasable_tables_are_reported_with_the_reason(db: ScratchDb) -> None:
    config = crm_config(db)
    config["tables"][4]["erase"] = "never"
    config["tables"][4]["not_erasable_reason"] = "kept by the ERP: erase it there"
    connector = SqlConnector(name="crm", config=config)
    try:
        result = await connector.erase(ALICE.subject(), ["b2b_contacts"])
    finally:
        await connector.aclose()
    assert [(e.outcome, e.reason) for e in result.categories] == [
        (ErasureOutcome.not_erasable, "kept by the ERP: erase it there")
    ]
    assert await rows(db, "SELECT count(*) FROM contacts WHERE id = 1") == [(1,)]


# ----- rectify and restrict -----


async def test_rectify_updates_mapped_fields_and_ignores_others(
    crm: SqlConnector, db: ScratchDb
) -> None:
    changes = {"name": "Alice Aasen-Berg", "email": "alice.new@example.test", "shoe_size": "38"}
    result = await crm.rectify(ALICE.subject(), changes)
    assert [(c.category, c.outcome, c.count, c.fields) for c in result.categories] == [
        ("contact", "rectified", 1, ["name", "email"])
    ]
    assert await rows(db, "SELECT name, email FROM customers WHERE id = 1") == [
        ("Alice Aasen-Berg", "alice.new@example.test")
    ]
    moved = ALICE.subject(emails=["alice.new@example.test"])
    again = await crm.rectify(moved, changes)
    assert [(c.outcome, c.count) for c in again.categories] == [("rectified", 0)]
    assert len((await crm.collect(moved)).by_category()["orders"]) == 2


async def test_rectify_rejects_a_value_the_column_cannot_hold(db: ScratchDb) -> None:
    connector = SqlConnector(name="crm", config=crm_config(db, rectify={"total": "orders.total"}))
    try:
        with pytest.raises(ConnectorPermanentError, match="total does not fit orders.total"):
            await connector.rectify(ALICE.subject(), {"total": "a lot"})
    finally:
        await connector.aclose()


async def test_restrict_is_declared_only_when_a_flag_is_configured(db: ScratchDb) -> None:
    plain = SqlConnector(name="crm", config=crm_config(db))
    flagged = SqlConnector(
        name="crm",
        config=crm_config(db, restriction=[{"table": "customers", "column": "restricted"}]),
    )
    try:
        assert Capability.restrict not in plain.capabilities
        assert isinstance(flagged, RestrictableSqlConnector)
        assert Capability.restrict in flagged.capabilities
        first = await flagged.restrict(ALICE.subject())
        second = await flagged.restrict(ALICE.subject())
        assert [(c.outcome, c.count) for c in first.categories] == [("restricted", 1)]
        assert [(c.outcome, c.count) for c in second.categories] == [("restricted", 0)]
        assert await rows(db, "SELECT id FROM customers WHERE restricted") == [(1,)]
        lifted = await flagged.restrict(ALICE.subject(), lift=True)
        assert [(c.outcome, c.count) for c in lifted.categories] == [("lifted", 1)]
        assert await rows(db, "SELECT count(*) FROM customers WHERE restricted") == [(0,)]
    finally:
        await plain.aclose()
        await flagged.aclose()


# ----- errors -----


async def test_an_unreachable_server_is_transient(db: ScratchDb) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends: nothing listens
    url = f"postgresql+asyncpg://postgres:{PG_PASSWORD}@127.0.0.1:{port}/crm"
    connector = SqlConnector(name="crm", config=crm_config(db, url=url))
    try:
        with pytest.raises(ConnectorTransientError) as raised:
            await connector.collect(ALICE.subject())
    finally:
        await connector.aclose()
    assert PG_PASSWORD not in f"{raised.value.message} {raised.value.internal_message}"
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


@pytest.mark.parametrize(
    "url",
    ["not a url", "mysql+nosuchdriver://u:pw@h/db", "postgresql+psycopg2://u:pw@127.0.0.1/db"],
)
async def test_a_bad_url_or_driver_is_a_config_error(db: ScratchDb, url: str) -> None:
    connector = SqlConnector(name="crm", config=crm_config(db, url=url))
    with pytest.raises(ConnectorConfigError) as raised:
        await connector.check()
    assert "pw" not in raised.value.message + raised.value.internal_message


async def test_postgres_errors_are_classified(backend: str, db: ScratchDb) -> None:
    if backend != "postgresql":
        pytest.skip("SQLSTATE classes are PostgreSQL's")
    from app.connectors.builtin.sql_engine import mapped_errors

    missing = db.url.rpartition("/")[0] + "/no_such_database"
    connector = SqlConnector(name="crm", config=crm_config(db, url=missing))
    with pytest.raises(ConnectorConfigError):
        await connector.check()
    slow = SqlConnector(name="crm", config=crm_config(db, statement_timeout_seconds=0.05))
    try:
        with pytest.raises(ConnectorTransientError, match="busy or unreachable"):
            async with mapped_errors("collect"), slow.engine.connect() as conn:
                await conn.execute(select(text("pg_sleep(2)")))
        with pytest.raises(ConnectorPermanentError) as raised:
            async with mapped_errors("erase"), slow.engine.begin() as conn:
                await conn.execute(
                    text(
                        f'INSERT INTO "{db.schema}".customers (id, customer_no, email, name) '
                        "VALUES (9, 'x', :e, 'y')"
                    ),
                    {"e": BOB.email},
                )
        assert BOB.email not in raised.value.message + raised.value.internal_message
        assert "23505" in raised.value.internal_message
    finally:
        await slow.aclose()


async def test_a_serialization_failure_is_transient(backend: str, crm: SqlConnector) -> None:
    """Two SERIALIZABLE transactions writing what the other read: one must retry (40001)."""
    if backend != "postgresql":
        pytest.skip("SQLite serialises writers instead")
    from app.connectors.builtin.sql_engine import mapped_errors

    table = f'"{crm.config.db_schema}".customers'
    serializable = crm.engine.execution_options(isolation_level="SERIALIZABLE")
    async with serializable.connect() as first, serializable.connect() as second:
        await first.begin()
        await second.begin()
        await first.execute(text(f"SELECT name FROM {table} WHERE id = 1"))
        await second.execute(text(f"SELECT name FROM {table} WHERE id = 2"))
        await first.execute(text(f"UPDATE {table} SET name = 'x' WHERE id = 2"))
        await first.commit()

        async def conflicting_write() -> None:
            async with mapped_errors("erase"):
                await second.execute(text(f"UPDATE {table} SET name = 'y' WHERE id = 1"))
                await second.commit()

        with pytest.raises(ConnectorTransientError) as raised:
            await conflicting_write()
    assert "40001" in raised.value.internal_message


async def test_a_locked_sqlite_database_is_transient(backend: str, db: ScratchDb) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite's lock")
    connector = SqlConnector(name="crm", config=crm_config(db, statement_timeout_seconds=0.05))
    blocker = create_async_engine(db.url)
    try:
        await connector.check()
        async with blocker.connect() as conn:
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
            with pytest.raises(ConnectorTransientError) as raised:
                await connector.erase(ALICE.subject(), ["marketing"])
            await conn.rollback()
    finally:
        await connector.aclose()
        await blocker.dispose()
    assert "SQLITE_BUSY" in raised.value.internal_message


def test_the_documented_example_config_is_valid() -> None:
    from app.connectors.builtin import sql

    config = SqlConfig.model_validate(example_config(sql.__doc__ or ""))
    assert [t.name for t in config.tables] == ["customers", "orders", "notes"]
    assert config.restriction and config.rectify["email"] == "customers.email"
