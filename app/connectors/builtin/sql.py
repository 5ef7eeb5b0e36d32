"""The ``sql`` connector: personal data in any SQLAlchemy database, mapped table by table.

Example instance in the connectors file (the ``config`` part is :class:`SqlConfig`)::

    - name: crm
      kind: sql
      config:
        url: postgresql+asyncpg://crm_reader:${CRM_DB_PASSWORD}@db.internal/crm
        schema: public
        categories:
          - name: contact
            description: Name, e-mail, phone and address
            purpose: Customer relationship and support
            legal_basis: GDPR 6(1)(b) contract
            recipients: [Support desk provider (processor)]
            retention: 3.5 years after the customer relationship ends
          - name: orders
            description: Orders and delivery addresses
            purpose: Delivering what the customer bought
            legal_basis: GDPR 6(1)(b) contract
            retention: 3.5 years after the end of the financial year
          - name: support_notes
            description: Notes from support conversations
            purpose: Customer support
            legal_basis: GDPR 6(1)(f) legitimate interest
            retention: 2 years
            provided_by_subject: false
          - name: marketing
            description: Newsletter consent
            purpose: Direct marketing
            legal_basis: GDPR 6(1)(a) consent
            retention: until consent is withdrawn
            marketing: true
            consent_based: true
        tables:
          - name: customers
            key: id
            category: contact
            match:
              email: {column: email, case_insensitive: true}
              phone: phone
              customer_id: customer_no        # request's customer_ids["crm"]
            erase: delete     # when orders are kept (a hold), the row stays and its erased
            columns:          # columns are overwritten: anonymise, null (default) or keep
              - {name: email, erase: anonymise, anonymise_with: "anonymised-{random}"}
              - {name: name, erase: anonymise, anonymise_with: anonymised}
              - phone
              - address
              - {name: newsletter, category: marketing}
          - name: orders
            category: orders
            parent: {column: customer_id, table: customers}   # -> customers.id
            columns: [order_date, total, shipping_address]
          - name: notes
            category: support_notes
            parent: {column: customer_id, table: customers}
            columns: [body]
        rectify:                              # request field -> table.column
          email: customers.email
          phone: customers.phone
          name: customers.name
          address: customers.address
        restriction:                          # optional: enables the restrict capability
          - {table: customers, column: restricted, value: true, lifted_value: false}

An optional ``holds:`` section (see ``sql_holds``) names rows that oblige the company to keep
data, such as a B2B contact on an active contract, and enables the ``holds`` capability.

How rows are erased (see ``sql_mapping.erasure_plan``): a row is deleted only when every
category it holds is erased and its child rows are deleted too (children first, so foreign
keys hold); otherwise the erased categories' columns are nulled or anonymised with a random
or fixed replacement, never a reversible hash. Identifiers are compared with bound parameters
only. Lookups rely on indexes on every ``match`` column (``lower(col)`` when
case-insensitive) and every ``parent`` column; ``check()`` lists the ones missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.connectors.builtin.sql_base import SqlBackedConnector
from app.connectors.builtin.sql_engine import EngineOptions, mapped_errors
from app.connectors.builtin.sql_holds import (
    HoldRule,
    check_rules,
    find_rule_holds,
    held_entries,
    rule_columns,
    rule_filters,
)
from app.connectors.builtin.sql_mapping import NAME_PATTERN, SqlMapping
from app.connectors.builtin.sql_ops import erasure_results, set_columns
from app.connectors.builtin.sql_schema import BoundMapping, coerce
from app.connectors.errors import ConnectorConfigError, ConnectorPermanentError
from app.connectors.protocol import (
    Capability,
    CategoryChange,
    ChangeResult,
    DataCategory,
    ErasureResult,
    HoldFinding,
    Record,
    SubjectRef,
)


class RestrictionFlag(BaseModel):
    """A column that marks rows as restricted (Art. 18: storage only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    table: str = Field(pattern=NAME_PATTERN)
    column: str = Field(pattern=NAME_PATTERN)
    value: Any = True
    lifted_value: Any = False


class SqlConfig(EngineOptions, SqlMapping):
    """Where the database is, what it holds, and how each table links to the person."""

    categories: list[DataCategory] = Field(min_length=1)
    rectify: dict[str, str] = Field(
        default_factory=dict, description="Request field name -> 'table.column' it corrects"
    )
    restriction: list[RestrictionFlag] = Field(default_factory=list)
    holds: list[HoldRule] = Field(
        default_factory=list, description="Rows that keep data under a legal hold (sql_holds)"
    )

    @field_validator("rectify")
    @classmethod
    def _dotted(cls, value: dict[str, str]) -> dict[str, str]:
        for target in value.values():
            table, _, column = target.partition(".")
            if not (table and column):
                raise ValueError(f"rectify target {target!r} must read 'table.column'")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SqlConfig:
        declared = {c.name for c in self.categories}
        if undeclared := self.used_categories() - declared:
            raise ValueError(f"categories used but not declared: {sorted(undeclared)}")
        mapped = {t.name for t in self.tables}
        targets = [t.partition(".")[0] for t in self.rectify.values()]
        for table in targets + [r.table for r in self.restriction]:
            if table not in mapped:
                raise ValueError(f"table {table} is not mapped (rectify/restriction need it)")
        check_rules(self.holds, self, declared)
        return self


class SqlConnector(SqlBackedConnector):
    """Collect, erase and rectify; restrict with a flag column, find holds with `holds` rules."""

    kind: ClassVar[str] = "sql"
    api_version: ClassVar[int] = 1
    config_model: ClassVar[type[BaseModel]] = SqlConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.collect, Capability.erase, Capability.rectify}
    )

    def __new__(cls, name: str, config: SqlConfig | Mapping[str, Any]) -> Self:
        """Capabilities are class-level: the config picks the subclass that declares them."""
        del name
        if cls is SqlConnector:
            return super().__new__(_variant(_parse(config)))  # type: ignore[return-value]
        return super().__new__(cls)

    def __init__(self, name: str, config: SqlConfig | Mapping[str, Any]) -> None:
        self.config = _parse(config)
        super().__init__(name, self.config, self.config)

    def categories(self) -> Sequence[DataCategory]:
        return list(self.config.categories)

    def extra_columns(self) -> dict[str, list[str]]:
        """The rectify targets, restriction flags and columns the hold rules read."""
        extra: dict[str, list[str]] = {}
        for target in self.config.rectify.values():
            table, _, column = target.partition(".")
            extra.setdefault(table, []).append(column)
        for flag in self.config.restriction:
            extra.setdefault(flag.table, []).append(flag.column)
        for table, columns in rule_columns(self.config.holds).items():
            extra.setdefault(table, []).extend(columns)
        return extra

    def check_bound(self, bound: BoundMapping) -> None:
        for rule in self.config.holds:
            rule_filters(bound, rule)  # values that cannot fit their column fail here

    def arrange(self, records: list[Record]) -> list[Record]:
        """Records in the order the categories are declared."""
        order = {c.name: i for i, c in enumerate(self.config.categories)}
        return sorted(records, key=lambda r: order.get(r.category, len(order)))

    async def erase(self, subject: SubjectRef, categories: Sequence[str]) -> ErasureResult:
        """Erase exactly ``categories``, in one transaction, children before parents.

        Categories a ``holds`` rule keeps are re-checked in the same transaction and reported
        held, never erased: a hold is not bypassed even by a caller that did not ask first.
        """
        wanted = self.declared(categories)
        rules = [r for r in self.config.holds if set(r.categories) & set(wanted)]
        async with self.connected("erase", write=True) as (conn, bound):
            findings = await find_rule_holds(conn, bound, rules, subject)
            kept = {c for f in findings for c in f.categories}
            tallies = await self.erase_free(
                conn, bound, subject, [c for c in wanted if c not in kept]
            )
        entries = erasure_results([c for c in categories if c not in kept], tallies)
        entries += held_entries([c for c in categories if c in kept], findings)
        order = {c: i for i, c in enumerate(dict.fromkeys(categories))}
        entries.sort(key=lambda e: order[e.category])
        return ErasureResult(categories=entries)

    async def rectify(self, subject: SubjectRef, changes: Mapping[str, Any]) -> ChangeResult:
        """Write corrected values of the mapped fields; fields of other systems are ignored."""
        async with mapped_errors("rectify"):
            bound = await self.bound_mapping()
            plan = _rectify_plan(self.config, bound, changes)
            results: list[CategoryChange] = []
            async with self.engine.begin() as conn:
                for table_name, values, fields in plan:
                    table = self.config.table(table_name)
                    found, changed = await set_columns(conn, bound, table, subject, values)
                    for category, names in fields.items():
                        outcome = "rectified" if found else "not_found"
                        results.append(
                            CategoryChange(
                                category=category, outcome=outcome, count=changed, fields=names
                            )
                        )
        return ChangeResult(categories=results)


class RestrictableSqlConnector(SqlConnector):
    """A ``sql`` instance with a restriction flag column: it can also restrict."""

    capabilities: ClassVar[frozenset[Capability]] = SqlConnector.capabilities | {
        Capability.restrict
    }

    async def restrict(self, subject: SubjectRef, *, lift: bool = False) -> ChangeResult:
        """Set (or clear) the flag column on the person's rows; idempotent."""
        results: list[CategoryChange] = []
        async with self.connected("restrict", write=True) as (conn, bound):
            for flag in self.config.restriction:
                table = self.config.table(flag.table)
                column = bound.column(flag.table, flag.column)
                try:
                    value = coerce(column, flag.lifted_value if lift else flag.value)
                except ValueError:
                    raise ConnectorConfigError(
                        f"restriction value does not fit {flag.table}.{flag.column}"
                    ) from None
                found, changed = await set_columns(
                    conn, bound, table, subject, {flag.column: value}
                )
                outcome = ("lifted" if lift else "restricted") if found else "not_found"
                results.append(
                    CategoryChange(category=table.category, outcome=outcome, count=changed)
                )
        return ChangeResult(categories=results)


class HoldFindingSqlConnector(SqlConnector):
    """A ``sql`` instance with ``holds`` rules: it also finds legal holds."""

    capabilities: ClassVar[frozenset[Capability]] = SqlConnector.capabilities | {Capability.holds}

    async def find_holds(self, subject: SubjectRef) -> list[HoldFinding]:
        """One hold per rule and reference the person's rows raise now (read-only)."""
        async with self.connected("find_holds") as (conn, bound):
            return await find_rule_holds(conn, bound, self.config.holds, subject)


class RestrictableHoldFindingSqlConnector(RestrictableSqlConnector, HoldFindingSqlConnector):
    """Both: a restriction flag and ``holds`` rules."""

    capabilities: ClassVar[frozenset[Capability]] = (
        RestrictableSqlConnector.capabilities | HoldFindingSqlConnector.capabilities
    )


def _variant(config: SqlConfig) -> type[SqlConnector]:
    """The class whose capabilities ``config`` enables."""
    return {
        (False, False): SqlConnector,
        (True, False): RestrictableSqlConnector,
        (False, True): HoldFindingSqlConnector,
        (True, True): RestrictableHoldFindingSqlConnector,
    }[(bool(config.restriction), bool(config.holds))]


def _parse(config: SqlConfig | Mapping[str, Any]) -> SqlConfig:
    return config if isinstance(config, SqlConfig) else SqlConfig.model_validate(config)


def _rectify_plan(
    config: SqlConfig, bound: BoundMapping, changes: Mapping[str, Any]
) -> list[tuple[str, dict[str, Any], dict[str, list[str]]]]:
    """(table, column values, fields by category) per table; identifier changes go last.

    An update that rewrites a column used to find the person (an e-mail, a parent key) runs
    after every other, so the other tables still find the person by the old value.
    """
    by_table: dict[str, tuple[dict[str, Any], dict[str, list[str]]]] = {}
    for field_name, value in changes.items():
        target = config.rectify.get(field_name)
        if target is None:
            continue
        table_name, _, column_name = target.partition(".")
        table = config.table(table_name)
        try:
            typed = coerce(bound.column(table_name, column_name), value)
        except ValueError:
            raise ConnectorPermanentError(
                f"the new value of {field_name} does not fit {table_name}.{column_name}"
            ) from None
        mapped = next((c for c in table.columns if c.name == column_name), None)
        category = table.column_category(mapped) if mapped else table.category
        values, fields = by_table.setdefault(table_name, ({}, {}))
        values[column_name] = typed
        fields.setdefault(category, []).append(field_name)
    reach = {(t.name, m.column) for t in config.tables for m in t.match.values()}
    reach |= {(t.parent.table, config.parent_column(t.parent)) for t in config.tables if t.parent}

    def last_if_identifier(name: str) -> tuple[bool, int]:
        touches = any((name, column) in reach for column in by_table[name][0])
        return touches, -config.depth(config.table(name))

    return [(name, *by_table[name]) for name in sorted(by_table, key=last_if_identifier)]
