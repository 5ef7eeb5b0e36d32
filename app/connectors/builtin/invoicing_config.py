"""Configuration of the ``invoicing`` connector: table and column names with defaults.

See :mod:`app.connectors.builtin.invoicing` for a complete example.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy.engine import RowMapping

from app.connectors.builtin.invoicing_holds import InvoiceState
from app.connectors.builtin.sql_engine import EngineOptions
from app.connectors.builtin.sql_mapping import (
    NAME_PATTERN,
    ColumnMapping,
    IdentifierKind,
    MatchColumn,
    ParentLink,
    SqlMapping,
    TableErasure,
    TableMapping,
    short_columns,
    short_match,
)
from app.connectors.protocol import DataCategory

OSLO = ZoneInfo("Europe/Oslo")


class InvoiceTable(BaseModel):
    """Where invoices live; every name has the usual default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="invoices", pattern=NAME_PATTERN)
    id: str = Field(default="id", pattern=NAME_PATTERN)
    customer_ref: str = Field(default="customer_ref", pattern=NAME_PATTERN)
    amount: str = Field(default="amount", pattern=NAME_PATTERN)
    issued_at: str = Field(default="issued_at", pattern=NAME_PATTERN)
    due_at: str = Field(default="due_at", pattern=NAME_PATTERN)
    paid_at: str | None = Field(default="paid_at", pattern=NAME_PATTERN)
    status: str | None = Field(default="status", pattern=NAME_PATTERN)
    collection_flag: str | None = Field(
        default=None, pattern=NAME_PATTERN, description="Boolean column: sent to debt collection"
    )
    acknowledged_at: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        description="Date column: the debtor's latest acknowledgement or part payment "
        "(interrupts limitation, foreldelsesloven § 14)",
    )
    collection_started_at: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        description="Date column: sent to debt collection (does not interrupt limitation)",
    )
    legal_step_at: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        description="Date column: conciliation board or writ of summons filed "
        "(interrupts limitation while the case goes on, foreldelsesloven §§ 15, 21 nr. 1)",
    )
    judgment_at: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        description="Date column: judgment or court settlement (ten years, foreldelsesloven "
        "§ 21 nr. 2)",
    )
    match: dict[IdentifierKind, MatchColumn] = Field(
        default_factory=dict,
        description="Identifier columns on the invoice itself, used when no customers table is "
        "configured (customer_ref always matches the request's customer number).",
    )
    columns: list[str] = Field(default_factory=list, description="More columns to collect")
    billing_columns: list[str] = Field(
        default_factory=list, description="Billing details on the invoice row (billing category)"
    )
    settled_statuses: list[str] = Field(
        default_factory=lambda: ["paid", "credited", "cancelled", "written_off"]
    )
    collection_statuses: list[str] = Field(default_factory=lambda: ["sent_to_collection"])
    draft_statuses: list[str] = Field(default_factory=lambda: ["draft"])

    _short_match = field_validator("match", mode="before")(short_match)

    def fact_columns(self) -> list[str]:
        """The configured date columns limitation depends on (foreldelsesloven)."""
        facts = [self.acknowledged_at, self.collection_started_at, self.legal_step_at]
        return [c for c in [*facts, self.judgment_at] if c]

    def state_columns(self) -> list[str]:
        optional = [self.paid_at, self.status, self.collection_flag, *self.fact_columns()]
        return [self.amount, self.issued_at, self.due_at, *(c for c in optional if c)]


class CustomerTable(BaseModel):
    """Optional customer register: how the person's customer_ref is found."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(default="customers", pattern=NAME_PATTERN)
    key: str = Field(default="id", pattern=NAME_PATTERN)
    match: dict[IdentifierKind, MatchColumn] = Field(min_length=1)
    columns: list[ColumnMapping] = Field(min_length=1)
    erase: TableErasure = "delete"
    held_columns: list[str] | None = Field(
        default=None,
        description="The columns a bookkeeping or claim hold keeps (the addressee of the "
        "invoice: name, address). Default: every column but the e-mail and phone match "
        "columns; the contact channels are not accounting documentation and are erased.",
    )

    def kept_by_holds(self) -> list[str]:
        """The columns held invoices keep; the others are erased while the invoices stay."""
        if self.held_columns is not None:
            return list(self.held_columns)
        contact = {m.column for kind, m in self.match.items() if kind in ("email", "phone")}
        return [c.name for c in self.columns if c.name not in contact]

    _short_columns = field_validator("columns", mode="before")(short_columns)
    _short_match = field_validator("match", mode="before")(short_match)


class InvoicingConfig(EngineOptions):
    """The invoicing database, its invoice table, and other personal data stored beside it."""

    invoices: InvoiceTable = Field(default_factory=InvoiceTable)
    customers: CustomerTable | None = None
    tables: list[TableMapping] = Field(default_factory=list)
    categories: list[DataCategory] = Field(default_factory=list)
    invoice_category: str = Field(default="invoices", pattern=r"^[a-z][a-z0-9_]*$")
    billing_category: str = Field(default="billing", pattern=r"^[a-z][a-z0-9_]*$")
    customer_id_system: str | None = None
    financial_year_end_month: int = Field(default=12, ge=1, le=12)

    @model_validator(mode="after")
    def _consistent(self) -> InvoicingConfig:
        mapping = self.mapping()  # raises on bad graphs
        declared = {c.name for c in self.all_categories()}
        if undeclared := mapping.used_categories() - declared:
            raise ValueError(f"categories used but not declared: {sorted(undeclared)}")
        if self.customers is not None and self.customers.held_columns is not None:
            mapped = {c.name for c in self.customers.columns}
            if unknown := set(self.customers.held_columns) - mapped:
                raise ValueError(f"customers.held_columns not mapped: {sorted(unknown)}")
        for table in self.tables:
            if table.parent is not None and table.parent.table == self.invoices.name:
                raise ValueError(f"table {table.name}: invoice rows cannot be parents here")
        return self

    def mapping(self, system: str | None = None) -> SqlMapping:
        """The invoice tables as a sql mapping, so collect and erase share the sql connector's."""
        inv = self.invoices
        columns = [ColumnMapping(name=c) for c in [*inv.state_columns(), *inv.columns]]
        columns += [
            ColumnMapping(name=c, category=self.billing_category) for c in inv.billing_columns
        ]
        tables: list[TableMapping] = []
        invoice_link: dict[str, Any]
        if self.customers is not None:
            cust = self.customers
            tables.append(
                TableMapping(
                    name=cust.name,
                    key=[cust.key],
                    category=self.billing_category,
                    # The key finds the person too: a hold keeps it, so the rows it kept are
                    # found after their e-mail and phone are erased.
                    match={"customer_id": MatchColumn(column=cust.key), **cust.match},
                    columns=cust.columns,
                    erase=cust.erase,
                )
            )
            invoice_link = {"parent": ParentLink(column=inv.customer_ref, table=cust.name)}
        else:
            invoice_link = {
                "match": {"customer_id": MatchColumn(column=inv.customer_ref), **inv.match}
            }
        tables.append(
            TableMapping(
                name=inv.name,
                key=[inv.id],
                category=self.invoice_category,
                columns=columns,
                **invoice_link,
            )
        )
        return SqlMapping(
            tables=[*tables, *self.tables], customer_id_system=system or self.customer_id_system
        )

    def all_categories(self) -> list[DataCategory]:
        """Configured categories, plus the defaults for invoices and billing when not given."""
        given = {c.name: c for c in self.categories}
        defaults = [_invoice_category(self.invoice_category)]
        if self.customers is not None or self.invoices.billing_columns:
            defaults.append(_billing_category(self.billing_category))
        return [*(given.pop(d.name, d) for d in defaults), *given.values()]


def _invoice_category(name: str) -> DataCategory:
    return DataCategory(
        name=name,
        description="Invoices: amounts, dates and payment state",
        purpose="Invoicing, payment follow-up and bookkeeping",
        legal_basis="GDPR 6(1)(b) contract; GDPR 6(1)(c) legal obligation (bokføringsloven)",
        automated_decisions="none",
        transfers=[],
        recipients=["Debt collection agency (only for claims sent to collection)", "Auditor"],
        retention="5 years after the end of the financial year (bokføringsloven § 13); "
        "longer while a claim is open",
        source="our invoicing system",
        provided_by_subject=False,
    )


def _billing_category(name: str) -> DataCategory:
    return DataCategory(
        name=name,
        description="Billing name, address and contact details",
        purpose="Invoicing and payment follow-up",
        legal_basis="GDPR 6(1)(b) contract; GDPR 6(1)(c) legal obligation (bokføringsloven)",
        automated_decisions="none",
        transfers=[],
        recipients=["Debt collection agency (only for claims sent to collection)"],
        retention="as long as the invoices that name them",
    )


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return (value.astimezone(OSLO) if value.tzinfo else value).date()
    return value if isinstance(value, date) else None


def invoice_state(inv: InvoiceTable, row: RowMapping) -> InvoiceState:
    """The hold-relevant facts of one invoice row."""
    status = str(row[inv.status]) if inv.status and row[inv.status] is not None else ""
    flagged = bool(row[inv.collection_flag]) if inv.collection_flag else False
    paid = bool(inv.paid_at and row[inv.paid_at] is not None) or status in inv.settled_statuses

    def fact(column: str | None) -> date | None:
        return _as_date(row[column]) if column else None

    collection_started = fact(inv.collection_started_at)
    return InvoiceState(
        id=row[inv.id],
        issued_at=_as_date(row[inv.issued_at]),
        due_at=_as_date(row[inv.due_at]),
        settled=paid,
        in_collection=flagged
        or status in inv.collection_statuses
        or collection_started is not None,
        draft=status in inv.draft_statuses,
        acknowledged_at=fact(inv.acknowledged_at),
        collection_started_at=collection_started,
        legal_step_at=fact(inv.legal_step_at),
        judgment_at=fact(inv.judgment_at),
    )
