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

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from app.connectors.builtin.invoicing_config import OSLO, InvoicingConfig, invoice_state
from app.connectors.builtin.invoicing_holds import InvoiceState, held_entries, holds_for
from app.connectors.builtin.sql_base import SqlBackedConnector
from app.connectors.builtin.sql_mapping import TableStep
from app.connectors.builtin.sql_ops import Tally, erasure_results, run_erasure
from app.connectors.builtin.sql_schema import BoundMapping
from app.connectors.protocol import (
    Capability,
    CategoryErasure,
    DataCategory,
    ErasureOutcome,
    ErasureResult,
    HoldFinding,
    SubjectRef,
)

_CHUNK = 1000


def oslo_today() -> date:
    return datetime.now(OSLO).date()


class InvoicingConnector(SqlBackedConnector):
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
        self.config = (
            config
            if isinstance(config, InvoicingConfig)
            else InvoicingConfig.model_validate(config)
        )
        super().__init__(
            name, self.config, self.config.mapping(self.config.customer_id_system or name)
        )
        self._today = today

    def categories(self) -> Sequence[DataCategory]:
        return self.config.all_categories()

    def extra_columns(self) -> dict[str, list[str]]:
        """The invoice id: held invoices are told apart, and freed ones deleted, by it."""
        return {self.config.invoices.name: [self.config.invoices.id]}

    async def find_holds(self, subject: SubjectRef) -> list[HoldFinding]:
        """Open claims, debt collection, and the bookkeeping period of booked invoices."""
        async with self.connected("find_holds") as (conn, bound):
            states = await self._invoice_states(conn, bound, subject)
            keys = await self._customer_keys(conn, bound, subject)
        findings = holds_for(states, self._held_categories(), self._today(), self._fy_month)
        fields = self._held_fields()
        system = self.mapping.customer_id_system or self.name
        ids = {system: str(keys[0])} if len(keys) == 1 else {}
        return [f.model_copy(update={"fields": fields, "customer_ids": ids}) for f in findings]

    async def erase(self, subject: SubjectRef, categories: Sequence[str]) -> ErasureResult:
        """Erase ``categories`` except held invoices (and the billing data they need).

        Holds are re-checked inside the erasing transaction, invoice by invoice: invoices
        whose holds have all ended are deleted even while newer ones are still kept.
        """
        today = self._today()
        async with self.connected("erase", write=True) as (conn, bound):
            held, tallies, deleted = await self._erase_in(conn, bound, subject, categories, today)
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
        wanted = self.declared(categories)
        states = await self._invoice_states(conn, bound, subject)
        held = [s for s in states if s.holds(today, self._fy_month)]
        kept = self._held_categories() if held else []
        tallies = await self.erase_free(conn, bound, subject, [c for c in wanted if c not in kept])
        free = [s.id for s in states if s not in held]
        deleted = 0
        if held and self.config.invoice_category in wanted and free:
            deleted = await self._delete_invoices(conn, bound, free)
        if held and self.config.billing_category in wanted:
            tallies |= await self._erase_unheld_fields(conn, bound, subject)
        return held, tallies, deleted

    async def _erase_unheld_fields(
        self, conn: AsyncConnection, bound: BoundMapping, subject: SubjectRef
    ) -> dict[str, Tally]:
        """The customer columns no hold names (e-mail, phone) go while the invoices stay."""
        customers = self.config.customers
        if customers is None:
            return {}
        table = self.mapping.table(customers.name)
        keep = set(customers.kept_by_holds())
        columns = [c for c in table.columns if c.name not in keep]
        if not columns:
            return {}
        step = TableStep(table, delete=False, columns={self.config.billing_category: columns})
        tallies = await run_erasure(conn, bound, [step], subject)
        for tally in tallies.values():
            # What stays is reported as held, with its basis; a column the schema cannot
            # empty (NOT NULL, no ``erase: anonymise``) is reported as not erasable.
            tally.kept = [k for k in tally.kept if k.split(".")[-1] not in keep]
        return tallies

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
        fields = self._held_fields()
        for category in kept:
            if category not in categories:
                continue
            if category == self.config.invoice_category and deleted:
                erased = CategoryErasure(
                    category=category, outcome=ErasureOutcome.erased, count=deleted
                )
                entries.append(erased)
            if category in fields:
                entries += self._erased_fields(category, tallies.get(category))
            entries += [
                e.model_copy(update={"fields": fields.get(category, [])})
                for e in held_entries(category, held, today, self._fy_month)
            ]
        order = {c: i for i, c in enumerate(categories)}
        entries.sort(key=lambda e: order.get(e.category, len(order)))
        return entries

    def _held_fields(self) -> dict[str, list[str]]:
        """Per held category, the only fields the holds keep: the billing columns an invoice
        shows (bokføringsforskriften § 5-1-1), never the contact channels."""
        customers = self.config.customers
        if customers is None or self.config.billing_category not in self._held_categories():
            return {}
        return {self.config.billing_category: customers.kept_by_holds()}

    def _erased_fields(self, category: str, tally: Tally | None) -> list[CategoryErasure]:
        """The part of a held category erased at once: which fields, how many rows."""
        customers = self.config.customers
        if tally is None or customers is None:
            return []
        count = tally.deleted + tally.nulled + tally.anonymised
        keep = set(customers.kept_by_holds())
        gone = [c.name for c in customers.columns if c.name not in keep]
        if not gone or (not count and not tally.kept):
            return []
        stuck = [k.split(".")[-1] for k in tally.kept]
        entries = []
        if stuck:
            entries.append(
                CategoryErasure(
                    category=category,
                    outcome=ErasureOutcome.not_erasable,
                    fields=stuck,
                    reason="the column cannot be emptied (NOT NULL): map it with erase: anonymise",
                )
            )
        gone = [g for g in gone if g not in stuck]
        outcome = ErasureOutcome.erased if tally.nulled else ErasureOutcome.anonymised
        if gone:
            entries.append(
                CategoryErasure(category=category, outcome=outcome, count=count, fields=gone)
            )
        return entries

    async def _customer_keys(
        self, conn: AsyncConnection, bound: BoundMapping, subject: SubjectRef
    ) -> list[Any]:
        """The person's keys in the customer register (one, normally)."""
        customers = self.config.customers
        if customers is None:
            return []
        table = self.mapping.table(customers.name)
        where = bound.person_filter(table, subject)
        if where is None:
            return []
        key = bound.column(customers.name, customers.key)
        return list((await conn.execute(select(key).where(where).order_by(key))).scalars())

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
