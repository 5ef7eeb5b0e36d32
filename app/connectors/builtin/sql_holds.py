"""Legal holds the ``sql`` connector finds: rows that oblige the company to keep data.

A rule names a mapped table (so its rows reach the person through ``match`` or ``parent``,
as collection does), the column values that make one of the person's rows count
(``contract_active: true``), the categories the hold keeps and the condition that ends it.
Every distinct value of ``reference_column`` (an organisation or contract number, never
personal data) is one hold, so a person who is the contact on two contracts has two holds.
These holds last while their condition holds: erasure re-checks them in its own transaction,
and a hold the connector no longer finds (the contact was replaced, the contract ended) can
end, which files the follow-up erasure of what it kept. Findings are stable (same basis,
reference and categories for the same rows), so a hold is recognised when asked again.

Example: a B2B contact person (the ``holds`` part of a ``sql`` connector's config)::

    - name: crm
      kind: sql
      config:
        url: postgresql+asyncpg://crm_reader:${CRM_DB_PASSWORD}@db.internal/crm
        categories:
          - name: b2b_contact
            description: Contact person at a business customer (name, e-mail, phone, role)
            purpose: Managing the business customer's contract
            legal_basis: GDPR 6(1)(f) legitimate interest
            retention: while the person is the registered contact on an active contract
          - name: marketing
            description: Newsletter consent
            purpose: Direct marketing
            legal_basis: GDPR 6(1)(a) consent
            retention: until consent is withdrawn
            marketing: true
            consent_based: true
        tables:
          - name: company_contacts
            category: b2b_contact
            match: {email: {column: contact_email, case_insensitive: true}}
            columns:
              - contact_name
              - contact_email
              - contact_phone
              - role
              - {name: newsletter, category: marketing}
        holds:
          - basis_code: b2b_contact            # a code of the hold catalogue
            table: company_contacts            # a mapped table
            where: {contract_active: true}     # column = value, all must hold
            categories: [b2b_contact]          # kept while the hold lasts
            condition: while the person is the registered contact on an active contract
            reference_column: org_number       # one hold per company; not personal data

Values in ``where`` are compared as bound parameters, converted to the column's type; the
names are checked against the real schema by ``check()`` like every mapped column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from sqlalchemy import and_, literal, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from app.connectors.builtin.sql_mapping import NAME_PATTERN, SqlMapping, TableMapping
from app.connectors.builtin.sql_ops import jsonable
from app.connectors.builtin.sql_schema import BoundMapping, coerce
from app.connectors.errors import ConnectorConfigError
from app.connectors.protocol import (
    HOLD_BASIS_CODES,
    CategoryErasure,
    ErasureOutcome,
    HoldBasis,
    HoldFinding,
    SubjectRef,
)

ColumnName = Annotated[str, StringConstraints(pattern=NAME_PATTERN)]
WhereValue = bool | int | float | str | None

DEFAULT_CONDITIONS: Mapping[str, str] = {
    HoldBasis.b2b_contact.value: "while the person is the registered contact on an active contract",
    HoldBasis.shareholder_register.value: "while the person holds shares",
}
"""The condition a rule gets when it names none; other bases must state theirs."""

_REFERENCE_MAX = 100  # the stored hold reference is at most this long


class HoldRule(BaseModel):
    """Rows of one mapped table that keep some of the person's categories."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    basis_code: str = Field(description="A code of the hold catalogue, e.g. b2b_contact")
    table: str = Field(pattern=NAME_PATTERN, description="A mapped table (see `tables`)")
    where: dict[ColumnName, WhereValue] = Field(
        default_factory=dict,
        description="Column -> value; a row of the person raises the hold when all are equal "
        "(null means IS NULL). Empty: any row of the person does.",
    )
    categories: list[str] = Field(min_length=1, description="Declared categories it keeps")
    condition: str | None = Field(
        default=None,
        min_length=1,
        max_length=300,
        description="When the hold ends, in words; b2b_contact and shareholder_register have "
        "a default",
    )
    reference_column: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        description="A non-personal column (organisation or contract number): one hold per "
        "value. Without it, one hold per rule.",
    )

    @field_validator("basis_code")
    @classmethod
    def _catalogued(cls, value: str) -> str:
        if value not in HOLD_BASIS_CODES:
            raise ValueError(f"unknown hold basis {value!r}; use one of {sorted(HOLD_BASIS_CODES)}")
        return value

    @model_validator(mode="after")
    def _ends(self) -> HoldRule:
        if self.condition is None and self.basis_code not in DEFAULT_CONDITIONS:
            raise ValueError(
                f"holds: give a `condition` for basis {self.basis_code} (when the hold ends)"
            )
        return self

    def ends_when(self) -> str:
        """The condition stated in the hold (a HoldFinding needs an end)."""
        return self.condition or DEFAULT_CONDITIONS[self.basis_code]


def personal_columns(table: TableMapping) -> set[str]:
    """Columns that hold or point at personal data: mapped, identifier and parent columns."""
    names = {c.name for c in table.columns} | {m.column for m in table.match.values()}
    return names | ({table.parent.column} if table.parent else set())


def check_rules(rules: Iterable[HoldRule], mapping: SqlMapping, declared: set[str]) -> None:
    """Raise ValueError for the first rule that does not fit the mapping."""
    tables = {t.name: t for t in mapping.tables}
    for rule in rules:
        table = tables.get(rule.table)
        if table is None:
            raise ValueError(f"holds: table {rule.table} is not mapped (add it under `tables`)")
        if undeclared := set(rule.categories) - declared:
            raise ValueError(f"holds: categories {sorted(undeclared)} are not declared")
        if rule.reference_column in personal_columns(table):
            raise ValueError(
                f"holds: reference_column {rule.table}.{rule.reference_column} is personal "
                "data (mapped, an identifier or a parent link); use a non-personal column "
                "such as an organisation or contract number"
            )


def rule_columns(rules: Iterable[HoldRule]) -> dict[str, list[str]]:
    """Columns the rules read, by table: checked against the schema with the mapping."""
    columns: dict[str, list[str]] = {}
    for rule in rules:
        names = [*rule.where, *([rule.reference_column] if rule.reference_column else [])]
        columns.setdefault(rule.table, []).extend(names)
    return columns


def rule_filters(bound: BoundMapping, rule: HoldRule) -> list[ColumnElement[bool]]:
    """The rule's ``where`` as clauses with bound values of the columns' types.

    Raises:
        ConnectorConfigError: a column does not exist, or a value cannot be of its type.
    """
    clauses: list[ColumnElement[bool]] = []
    for name, value in rule.where.items():
        column = bound.column(rule.table, name)
        try:
            typed: Any = coerce(column, value)
        except ValueError:
            raise ConnectorConfigError(
                f"holds: the `where` value for {rule.table}.{name} does not fit the column"
            ) from None
        clauses.append(column.is_(None) if typed is None else column == typed)
    return clauses


async def find_rule_holds(
    conn: AsyncConnection, bound: BoundMapping, rules: Sequence[HoldRule], subject: SubjectRef
) -> list[HoldFinding]:
    """The holds the person's rows raise, one per rule and reference, each found once."""
    findings: dict[str, HoldFinding] = {}
    for rule in rules:
        for finding in await _rule_holds(conn, bound, rule, subject):
            findings.setdefault(finding.model_dump_json(), finding)
    return list(findings.values())


async def _rule_holds(
    conn: AsyncConnection, bound: BoundMapping, rule: HoldRule, subject: SubjectRef
) -> list[HoldFinding]:
    person = bound.person_filter(bound.mapping.table(rule.table), subject)
    if person is None:
        return []
    where = and_(person, *rule_filters(bound, rule))
    references: list[str | None]
    if rule.reference_column is None:
        stmt = select(literal(1)).select_from(bound.tables[rule.table]).where(where).limit(1)
        references = [None] if (await conn.execute(stmt)).first() is not None else []
    else:
        column = bound.column(rule.table, rule.reference_column)
        values = (await conn.execute(select(column).where(where).distinct())).scalars().all()
        found = {_reference(rule.reference_column, v) for v in values}
        references = sorted(found, key=lambda r: (r is None, r or ""))
    return [
        HoldFinding(
            basis_code=rule.basis_code,
            categories=list(dict.fromkeys(rule.categories)),
            condition=rule.ends_when(),
            reference=reference,
        )
        for reference in references
    ]


def _reference(column: str, value: Any) -> str | None:
    return None if value is None else f"{column} {jsonable(value)}"[:_REFERENCE_MAX]


def held_entries(
    categories: Sequence[str], findings: Sequence[HoldFinding]
) -> list[CategoryErasure]:
    """Erasure entries for requested categories a hold keeps: one per category and basis,
    counting the holds (contracts) that keep it."""
    entries: list[CategoryErasure] = []
    for category in dict.fromkeys(categories):
        by_basis: dict[str, list[HoldFinding]] = {}
        for finding in findings:
            if category in finding.categories:
                by_basis.setdefault(finding.basis_code, []).append(finding)
        for basis, group in by_basis.items():
            conditions = dict.fromkeys(f.condition for f in group if f.condition)
            entries.append(
                CategoryErasure(
                    category=category,
                    outcome=ErasureOutcome.held,
                    count=len(group),
                    basis_code=basis,
                    reason="; ".join(conditions) or None,
                )
            )
    return entries
