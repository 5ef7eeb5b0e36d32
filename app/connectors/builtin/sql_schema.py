"""A mapping bound to the real schema: reflected tables, checked names, and person filters.

Reflection gives every column its real type, so identifiers are bound as the column's type
(a customer number typed as text still finds a bigint key) and never formatted into SQL.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Column, MetaData, Table, func, inspect, or_, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from app.connectors.builtin.sql_mapping import (
    RANDOM_MARKER,
    ColumnErasure,
    ColumnMapping,
    IdentifierKind,
    SqlMapping,
    TableMapping,
)
from app.connectors.errors import ConnectorConfigError
from app.connectors.protocol import SubjectRef

_MIN_RANDOM = 8  # the least randomness accepted, for short columns only
_MAX_RANDOM_CHARS = 24


def identifier_values(subject: SubjectRef, kind: IdentifierKind, system: str) -> list[str]:
    """The person's identifiers of one kind, as the request carries them."""
    if kind == "email":
        return list(subject.emails)
    if kind == "phone":
        return list(subject.phones)
    if kind == "national_id":
        return [subject.national_id] if subject.national_id else []
    value = subject.customer_ids.get(system)
    return [value] if value else []


def python_type(column: Column[Any]) -> type | None:
    try:
        return column.type.python_type
    except NotImplementedError:
        return None


def coerce(column: Column[Any], value: Any) -> Any:
    """``value`` as the column's Python type; raises ValueError when it cannot be one."""
    kind = python_type(column)
    if kind is None or value is None or isinstance(value, kind):
        return value
    try:
        return TypeAdapter(kind).validate_python(value)
    except ValidationError:
        raise ValueError(f"not a {kind.__name__}") from None


@dataclass
class BoundMapping:
    """The mapping plus its reflected tables; build it with :meth:`reflect`."""

    mapping: SqlMapping
    tables: dict[str, Table]
    system: str
    missing_indexes: list[str] = field(default_factory=list)

    @classmethod
    async def reflect(
        cls,
        conn: AsyncConnection,
        mapping: SqlMapping,
        *,
        schema: str | None,
        system: str,
        extra_columns: Mapping[str, Sequence[str]] | None = None,
    ) -> BoundMapping:
        """Reflect and check every mapped table and column.

        Raises:
            ConnectorConfigError: naming the first table or column that does not exist or
                cannot be erased the configured way.
        """
        names = [t.name for t in mapping.tables]
        tables, indexed = await conn.run_sync(_reflect, names, schema)
        bound = cls(mapping=mapping, tables=tables, system=system)
        bound._check(extra_columns or {})
        bound.missing_indexes = bound._unindexed(indexed)
        return bound

    def column(self, table: str, name: str) -> Column[Any]:
        try:
            return self.tables[table].c[name]
        except KeyError:
            raise ConnectorConfigError(f"column {table}.{name} does not exist") from None

    def _check(self, extra: Mapping[str, Sequence[str]]) -> None:
        for table in self.mapping.tables:
            names = [*table.key, *(m.column for m in table.match.values())]
            names += [c.name for c in table.columns] + list(extra.get(table.name, ()))
            if table.parent is not None:
                names.append(table.parent.column)
                self.column(table.parent.table, self.mapping.parent_column(table.parent))
            for name in names:
                self.column(table.name, name)
            for match in table.match.values():
                if (
                    match.case_insensitive
                    and python_type(self.column(table.name, match.column)) is not str
                ):
                    raise ConnectorConfigError(
                        f"column {table.name}.{match.column} is not text: "
                        "case_insensitive needs a text column"
                    )
            self._check_erasable(table)
        for table_name, columns in extra.items():
            if table_name not in self.tables:
                raise ConnectorConfigError(f"table {table_name} is not mapped")
            for name in columns:
                self.column(table_name, name)

    def _check_erasable(self, table: TableMapping) -> None:
        """Explicit erase modes must work: null needs a nullable column, anonymise text."""
        if table.erase == "never":
            return
        for mapped in table.columns:
            if mapped.name in table.link_columns() or mapped.erase is None:
                continue
            column = self.column(table.name, mapped.name)
            where = f"column {table.name}.{mapped.name}"
            if mapped.erase == "null" and not column.nullable:
                raise ConnectorConfigError(f"{where} is NOT NULL: it cannot be erased by null")
            if mapped.erase == "anonymise" and python_type(column) is not str:
                raise ConnectorConfigError(
                    f"{where} is not text: anonymise needs a text column; use null or keep"
                )
            if mapped.erase == "anonymise" and self.random_room(table, mapped) < _MIN_RANDOM:
                raise ConnectorConfigError(
                    f"{where} is too short for its anonymise_with replacement (it needs room "
                    f"for {_MIN_RANDOM} random characters)"
                )

    def column_mode(self, table: TableMapping, mapped: ColumnMapping) -> ColumnErasure:
        """How a column is erased when its row must stay (explicit, else from the schema)."""
        if mapped.erase is not None:
            return mapped.erase
        column = self.column(table.name, mapped.name)
        if (
            table.erase == "anonymise"
            and python_type(column) is str
            and self.random_room(table, mapped) >= _MIN_RANDOM
        ):
            return "anonymise"
        return "null" if column.nullable else "keep"

    def random_room(self, table: TableMapping, mapped: ColumnMapping) -> int:
        """How many random characters the column's replacement may carry (max 24).

        A replacement without ``{random}`` needs no room: it reports the maximum when it fits.
        """
        template = table.replacement(mapped)
        fixed = len(template.replace(RANDOM_MARKER, ""))
        length = getattr(self.column(table.name, mapped.name).type, "length", None)
        room = _MAX_RANDOM_CHARS if length is None else min(_MAX_RANDOM_CHARS, length - fixed)
        if RANDOM_MARKER not in template:
            return _MAX_RANDOM_CHARS if room >= 0 else -1
        return room

    def _unindexed(self, indexed: dict[str, list[tuple[str, ...]]]) -> list[str]:
        """Lookup columns no index starts with: each lookup would scan the whole table."""
        wanted: list[tuple[str, str, bool]] = []
        for table in self.mapping.tables:
            for match in table.match.values():
                wanted.append((table.name, match.column, match.case_insensitive))
            if table.parent is not None:
                wanted.append((table.name, table.parent.column, False))
                wanted.append((table.parent.table, self.mapping.parent_column(table.parent), False))
        missing: list[str] = []
        for table_name, column, lowered in wanted:
            label = f"lower({column})" if lowered else column
            leading = {cols[0] for cols in indexed.get(table_name, []) if cols}
            if label not in leading and f"{table_name}.{label}" not in missing:
                missing.append(f"{table_name}.{label}")
        return missing

    def person_filter(self, table: TableMapping, subject: SubjectRef) -> ColumnElement[bool] | None:
        """WHERE clause selecting the person's rows, or None when no identifier applies.

        Direct tables compare identifier columns with bound values (any identifier matches);
        child tables select rows whose parent key is among the person's parent rows.
        """
        if table.parent is not None:
            parent = self.mapping.table(table.parent.table)
            inner = self.person_filter(parent, subject)
            if inner is None:
                return None
            target = self.column(parent.name, self.mapping.parent_column(table.parent))
            own = self.column(table.name, table.parent.column)
            return own.in_(select(target).where(inner))
        clauses: list[ColumnElement[bool]] = []
        for kind, match in table.match.items():
            column = self.column(table.name, match.column)
            values = [
                v.lower() if match.case_insensitive else v
                for v in identifier_values(subject, kind, self.system)
            ]
            typed = _coercible(column, values)
            if not typed:
                continue
            target_col: ColumnElement[Any] = (
                func.lower(column) if match.case_insensitive else column
            )
            clauses.append(target_col.in_(typed))
        return or_(*clauses) if clauses else None

    def key_columns(self, table: TableMapping) -> list[Column[Any]]:
        return [self.column(table.name, k) for k in table.key]


def _coercible(column: Column[Any], values: list[str]) -> list[Any]:
    """Values that fit the column's type: an e-mail can never match an integer key."""
    typed: list[Any] = []
    for value in values:
        try:
            typed.append(coerce(column, value))
        except ValueError:
            continue
    return typed


def _reflect(
    sync_conn: Connection, names: list[str], schema: str | None
) -> tuple[dict[str, Table], dict[str, list[tuple[str, ...]]]]:
    metadata = MetaData(schema=schema)
    inspector = inspect(sync_conn)
    tables: dict[str, Table] = {}
    indexed: dict[str, list[tuple[str, ...]]] = {}
    for name in names:
        try:
            tables[name] = Table(name, metadata, autoload_with=sync_conn, resolve_fks=False)
        except sa_exc.NoSuchTableError:
            where = f" in schema {schema}" if schema else ""
            raise ConnectorConfigError(f"table {name} does not exist{where}") from None
        indexed[name] = _index_columns(inspector, name, schema)
    return tables, indexed


def _index_columns(inspector: Any, name: str, schema: str | None) -> list[tuple[str, ...]]:
    """Column lists of the table's indexes and primary key; expressions as written."""
    found: list[tuple[str, ...]] = []
    pk = inspector.get_pk_constraint(name, schema=schema).get("constrained_columns") or []
    if pk:
        found.append(tuple(pk))
    for index in inspector.get_indexes(name, schema=schema):
        expressions = index.get("expressions") or index.get("column_names") or []
        found.append(tuple(_normal_expression(str(e)) for e in expressions if e is not None))
    for unique in inspector.get_unique_constraints(name, schema=schema):
        found.append(tuple(unique.get("column_names") or []))
    return found


def _normal_expression(expression: str) -> str:
    """``lower((email)::text)`` and ``lower(email)`` both read ``lower(email)``."""
    text = expression.replace("::text", "").replace('"', "").replace(" ", "")
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return text.replace("((", "(").replace("))", ")")
