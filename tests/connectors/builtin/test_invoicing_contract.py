"""The invoicing connector passes the connector contract, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.connectors.builtin.invoicing import InvoicingConnector
from app.connectors.protocol import Connector, SubjectRef
from app.connectors.testing import ConnectorContract
from tests.connectors.builtin.test_invoicing_support import (
    DANA,
    ERIK,
    FRIDA,
    TODAY,
    create_invoicing,
    invoicing_config,
)
from tests.connectors.builtin.test_sql_support import ScratchDb, scratch_database


@pytest.fixture
async def invoicing_db(backend: str, tmp_path: Path) -> AsyncIterator[ScratchDb]:
    async with scratch_database(backend, tmp_path) as scratch:
        await create_invoicing(scratch, [DANA, ERIK, FRIDA])
        yield scratch


class TestInvoicingContract(ConnectorContract):
    kind = "invoicing"

    @pytest.fixture
    async def connector(self, invoicing_db: ScratchDb) -> AsyncIterator[Connector]:
        connector = InvoicingConnector(
            name="billing", config=invoicing_config(invoicing_db), today=lambda: TODAY
        )
        yield connector
        await connector.aclose()

    @pytest.fixture
    async def broken_connector(self, invoicing_db: ScratchDb) -> AsyncIterator[Connector | None]:
        config = invoicing_config(invoicing_db, invoices={"paid_at": "settled_on"})
        connector = InvoicingConnector(name="billing", config=config, today=lambda: TODAY)
        yield connector
        await connector.aclose()

    @pytest.fixture
    def seed_subject(self) -> SubjectRef:
        return FRIDA.subject()

    @pytest.fixture
    def other_subject(self) -> SubjectRef:
        return DANA.subject()

    @pytest.fixture
    def held_subject(self) -> SubjectRef:
        return ERIK.subject()

    @pytest.fixture
    def expected_categories(self) -> set[str]:
        return {"invoices", "billing", "marketing"}
