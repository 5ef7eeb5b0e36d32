"""The sql connector passes the connector contract, on SQLite and on PostgreSQL.

The instance under test can restrict and find holds (a B2B contact on an active contract):
Carol is such a contact, so the held-data tests run against real rows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from app.connectors.builtin.sql import SqlConnector
from app.connectors.protocol import Capability, Connector, SubjectRef
from app.connectors.testing import ConnectorContract
from tests.connectors.builtin.test_sql_holds import create_company_contacts, holds_config
from tests.connectors.builtin.test_sql_support import (
    ALICE,
    BOB,
    CAROL,
    ScratchDb,
    create_crm,
    crm_config,
    scratch_database,
)


@pytest.fixture
async def crm_db(backend: str, tmp_path: Path) -> AsyncIterator[ScratchDb]:
    async with scratch_database(backend, tmp_path) as scratch:
        await create_crm(scratch, [ALICE, BOB, CAROL])
        await create_company_contacts(scratch)
        yield scratch


class TestSqlContract(ConnectorContract):
    kind = "sql"

    @pytest.fixture
    async def connector(self, crm_db: ScratchDb) -> AsyncIterator[Connector]:
        restriction = [{"table": "customers", "column": "restricted"}]
        connector = SqlConnector(name="crm", config=holds_config(crm_db, restriction=restriction))
        assert Capability.holds in connector.capabilities
        assert Capability.restrict in connector.capabilities
        yield connector
        await connector.aclose()

    @pytest.fixture
    async def broken_connector(self, crm_db: ScratchDb) -> AsyncIterator[Connector | None]:
        config = crm_config(crm_db)
        config["tables"][4]["name"] = "contact_people"  # no such table
        connector = SqlConnector(name="crm", config=config)
        yield connector
        await connector.aclose()

    @pytest.fixture
    def seed_subject(self) -> SubjectRef:
        return ALICE.subject()

    @pytest.fixture
    def other_subject(self) -> SubjectRef:
        return BOB.subject()

    @pytest.fixture
    def held_subject(self) -> SubjectRef:
        return CAROL.subject()

    @pytest.fixture
    def expected_categories(self) -> set[str]:
        return {"contact", "marketing", "orders", "order_lines", "notes", "b2b_contacts"}

    @pytest.fixture
    def rectify_changes(self) -> Mapping[str, Any]:
        return {"name": "Alice Aasen-Lie", "address": "9 Kirkegata, Oslo"}
