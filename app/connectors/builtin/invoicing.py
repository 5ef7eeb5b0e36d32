"""The ``invoicing`` connector: invoices and payment state, and the legal holds they raise.

An unpaid invoice is an open claim (GDPR 17(3)(e)): it holds the invoice and billing data
until it is settled, and at least until the claim could become time-barred (due date + 3
years, foreldelsesloven §§ 2-3). An invoice sent to debt collection (inkasso) holds the same
data under ``debt_collection``. Every booked invoice is primary documentation (bokføringsloven
§ 13): kept until 31 December five years after its financial year ends. Erasure never touches
a held invoice, and erases the other categories stored in the same database.

Example instance in the connectors file (the ``config`` part is :class:`InvoicingConfig`;
every table and column name below is the default except where noted)::

    - name: billing
      kind: invoicing
      config:
        url: postgresql+asyncpg://billing_reader:${BILLING_DB_PASSWORD}@db.internal/billing
        financial_year_end_month: 12
        customer_id_system: billing      # request's customer_ids["billing"] = customer_ref
        invoices:
          name: invoices
          id: id
          customer_ref: customer_ref
          amount: amount
          issued_at: issued_at
          due_at: due_at
          paid_at: paid_at
          status: status                 # 'sent_to_collection' marks inkasso
          collection_flag: in_collection # optional boolean column (not a default)
          columns: [currency, description]
        customers:                       # optional: finds customer_ref by e-mail etc.
          name: customers
          key: id
          match: {email: {column: email, case_insensitive: true}, phone: phone}
          columns: [name, email, phone, billing_address]
        tables:                          # other personal data in the same database
          - name: newsletter_signups
            category: marketing
            parent: {column: customer_id, table: customers}
            columns: [signed_up_at]
        categories:                      # invoices and billing have defaults
          - name: marketing
            description: Newsletter sign-up
            purpose: Direct marketing
            legal_basis: GDPR 6(1)(a) consent
            retention: until consent is withdrawn
            marketing: true
            consent_based: true
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.connectors.builtin.invoicing_config import OSLO, InvoicingConfig, invoice_state
from app.connectors.builtin.invoicing_holds import InvoiceState, held_entries, holds_for
from app.connectors.builtin.sql_engine import build_engine, mapped_errors
from app.connectors.builtin.sql_mapping import (
    IdentifierKind,
    erasure_plan,
)
from app.connectors.builtin.sql_ops import Tally, collect_table, erasure_results, run_erasure
from app.connectors.builtin.sql_schema import BoundMapping, identifier_values
from app.connectors.protocol import (
    Capability,
    CategoryErasure,
    CollectResult,
    DataCategory,
    ErasureOutcome,
    ErasureResult,
    Health,
    HoldFinding,
    SubjectRef,
)

_KINDS: tuple[IdentifierKind, ...] = ("email", "phone", "national_id", "customer_id")
_CHUNK = 1000


def oslo_today() -> date:
    return datetime.now(OSLO).date()


class InvoicingConnector:
    """Collect invoices, find the holds they raise, erase what no hold keeps."""

    kind: ClassVar[str] = "invoicing"
    api_version: ClassVar[int] = 1
    config_model: ClassVar[type[BaseModel]] = InvoicingConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.collect, Capability.holds, Capability.erase}
    )

    def __init__(
        self,
        name: str,
        config: InvoicingConfig | Mapping[str, Any],
        *,
        today: Callable[[], date] = oslo_today,
    ) -> None:
        self.name = name
        self.config = (
            config
            if isinstance(config, InvoicingConfig)
            else InvoicingConfig.model_validate(config)
        )
        self.mapping = self.config.mapping(self.config.customer_id_system or name)
        self._today = today
        self._engine: AsyncEngine | None = None
        self._bound: BoundMapping | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    def categories(self) -> Sequence[DataCategory]:
        return self.config.all_categories()

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            self._engine = build_engine(self.config)
        return self._engine

    async def _bound_mapping(self, *, refresh: bool = False) -> BoundMapping:
        async with self._lock:
            if self._bound is None or refresh:
                async with self.engine.connect() as conn:
                    self._bound = await BoundMapping.reflect(
                        conn,
                        self.mapping,
                        schema=self.config.db_schema,
                        system=self.mapping.customer_id_system or self.name,
                        extra_columns={self.config.invoices.name: [self.config.invoices.id]},
                    )
            return self._bound

    async def check(self) -> Health:
        """Connect and compare the configured tables and columns with the real schema."""
        async with mapped_errors("check"):
            bound = await self._bound_mapping(refresh=True)
        detail = f"{len(bound.tables)} tables mapped"
        if bound.missing_indexes:
            detail += "; lookups without an index: " + ", ".join(bound.missing_indexes)
        return Health(ok=True, detail=detail)

    async def collect(self, subject: SubjectRef) -> CollectResult:
        """The person's invoices, billing details and other mapped data."""
        async with mapped_errors("collect"):
            bound = await self._bound_mapping()
            records = []
            async with self.engine.connect() as conn:
                for table in self.mapping.tables:
                    records += await collect_table(
                        conn, bound, table, subject, batch_size=self.config.batch_size
                    )
        return CollectResult(records=records)

    async def find_holds(self, subject: SubjectRef) -> list[HoldFinding]:
        """Open claims, debt collection, and the bookkeeping period of booked invoices."""
        async with mapped_errors("find_holds"):
            bound = await self._bound_mapping()
            async with self.engine.connect() as conn:
                states = await self._invoice_states(conn, bound, subject)
        return holds_for(states, self._held_categories(), self._today(), self._fy_month)

    async def erase(self, subject: SubjectRef, categories: Sequence[str]) -> ErasureResult:
        """Erase ``categories`` except held invoices (and the billing data they need).

        Holds are re-checked inside the erasing transaction, invoice by invoice: invoices
        whose holds have all ended are deleted even while newer ones are still kept.
        """
        today = self._today()
        async with mapped_errors("erase"):
            bound = await self._bound_mapping()
            async with self.engine.begin() as conn:
                held, tallies, deleted = await self._erase_in(
                    conn, bound, subject, categories, today
                )
        entries = self._entries(categories, held, tallies, deleted, today)
        return ErasureResult(categories=entries)

    async def _erase_in(
        self,
        conn: AsyncConnection,
        bound: BoundMapping,
        subject: SubjectRef,
        categories: Sequence[str],
        today: date,
    ) -> tuple[list[InvoiceState], dict[str, Tally], int]:
        declared = {c.name for c in self.categories()}
        wanted = [c for c in dict.fromkeys(categories) if c in declared]
        states = await self._invoice_states(conn, bound, subject)
        held = [s for s in states if s.holds(today, self._fy_month)]
        kept = self._held_categories() if held else []
        used = {k for k in _KINDS if identifier_values(subject, k, bound.system)}
        steps = erasure_plan(self.mapping, [c for c in wanted if c not in kept], used=used)
        tallies = await run_erasure(conn, bound, steps, subject)
        free = [s.id for s in states if s not in held]
        deleted = 0
        if held and self.config.invoice_category in wanted and free:
            deleted = await self._delete_invoices(conn, bound, free)
        return held, tallies, deleted

    def _entries(
        self,
        categories: Sequence[str],
        held: list[InvoiceState],
        tallies: dict[str, Tally],
        deleted: int,
        today: date,
    ) -> list[CategoryErasure]:
        kept = self._held_categories() if held else []
        entries = erasure_results([c for c in categories if c not in kept], tallies)
        for category in kept:
            if category not in categories:
                continue
            if category == self.config.invoice_category and deleted:
                erased = CategoryErasure(
                    category=category, outcome=ErasureOutcome.erased, count=deleted
                )
                entries.append(erased)
            entries += held_entries(category, held, today, self._fy_month)
        order = {c: i for i, c in enumerate(categories)}
        entries.sort(key=lambda e: order.get(e.category, len(order)))
        return entries

    async def aclose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    @property
    def _fy_month(self) -> int:
        return self.config.financial_year_end_month

    def _held_categories(self) -> list[str]:
        names = {c.name for c in self.categories()}
        return [
            c for c in (self.config.invoice_category, self.config.billing_category) if c in names
        ]

    async def _invoice_states(
        self, conn: AsyncConnection, bound: BoundMapping, subject: SubjectRef
    ) -> list[InvoiceState]:
        inv = self.config.invoices
        table = self.mapping.table(inv.name)
        where = bound.person_filter(table, subject)
        if where is None:
            return []
        names = [inv.id, *inv.state_columns()]
        columns = [bound.column(inv.name, n) for n in names]
        rows = (await conn.execute(select(*columns).where(where).order_by(columns[0]))).mappings()
        return [invoice_state(inv, row) for row in rows]

    async def _delete_invoices(
        self, conn: AsyncConnection, bound: BoundMapping, ids: Sequence[Any]
    ) -> int:
        """Delete invoices no hold keeps any more (their bookkeeping period has ended)."""
        column = bound.column(self.config.invoices.name, self.config.invoices.id)
        table = bound.tables[self.config.invoices.name]
        deleted = 0
        for start in range(0, len(ids), _CHUNK):  # bound-parameter limits of the drivers
            chunk = list(ids[start : start + _CHUNK])
            result = await conn.execute(delete(table).where(column.in_(chunk)))
            deleted += max(result.rowcount, 0)
        return deleted
