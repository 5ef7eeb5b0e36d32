"""The table/column mapping of SQL-backed connectors, and the erasure plan it implies.

The mapping says which tables and columns hold which data categories, how a table's rows link
to the person (an identifier column, or a parent key leading to a table that has one), and
how erasure treats them. It is pure configuration: names are checked against the real schema
by the connector's ``check()``, never formatted into SQL (SQLAlchemy quotes every name).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

IdentifierKind = Literal["email", "phone", "national_id", "customer_id"]
TableErasure = Literal["delete", "null", "anonymise", "never"]
ColumnErasure = Literal["null", "anonymise", "keep"]

DEFAULT_ANONYMISE_WITH = "anonymised-{random}"
RANDOM_MARKER = "{random}"
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_$]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MatchColumn(_Strict):
    """A column holding one kind of identifier of the person."""

    column: str = Field(pattern=NAME_PATTERN)
    case_insensitive: bool = Field(
        default=False,
        description="Compare lower(column) with the lower-cased identifier. Needs an index on "
        "lower(column) on large tables; e-mail addresses typed by people often need this.",
    )


class ParentLink(_Strict):
    """This table's rows belong to the person through a parent row (orders -> customers)."""

    column: str = Field(pattern=NAME_PATTERN, description="Column of this table, e.g. customer_id")
    table: str = Field(pattern=NAME_PATTERN, description="A mapped parent table, e.g. customers")
    parent_column: str | None = Field(
        default=None, pattern=NAME_PATTERN, description="Referenced column (default: parent key)"
    )


def short_columns(value: Any) -> Any:
    """``columns: [email, name]`` is short for ``[{name: email}, {name: name}]``."""
    if isinstance(value, list):
        return [{"name": item} if isinstance(item, str) else item for item in value]
    return value


def short_match(value: Any) -> Any:
    """``match: {email: email}`` is short for ``{email: {column: email}}``."""
    if isinstance(value, dict):
        return {k: {"column": v} if isinstance(v, str) else v for k, v in value.items()}
    return value


def _recognisable(template: str | None) -> str | None:
    """A replacement needs fixed text: values it wrote must be told apart from real data."""
    if template is not None and not template.replace(RANDOM_MARKER, "").strip():
        raise ValueError("anonymise_with needs fixed text besides {random}, e.g. 'x{random}'")
    return template


class ColumnMapping(_Strict):
    """One personal-data column; its category defaults to the table's."""

    name: str = Field(pattern=NAME_PATTERN)
    category: str | None = None
    erase: ColumnErasure | None = Field(
        default=None,
        description="How the column is erased when its row must stay: null, anonymise "
        "(overwrite irreversibly) or keep (not personal without the row's link; reported as "
        "kept). Default: anonymise text in an anonymise table, else null if the column is "
        "nullable, else keep.",
    )
    anonymise_with: str | None = Field(
        default=None,
        description="Replacement; '{random}' becomes a fresh random token per row "
        "(needed for unique columns), e.g. 'anonymised-{random}' or a fixed 'anonymised'.",
    )

    _anonymise_with = field_validator("anonymise_with")(_recognisable)


class TableMapping(_Strict):
    """A table of personal data: its key, its rows' link to the person, its columns."""

    name: str = Field(pattern=NAME_PATTERN)
    key: list[str] = Field(default_factory=lambda: ["id"], min_length=1)
    category: str = Field(description="Category of the row as a whole and of unlabelled columns")
    columns: list[ColumnMapping] = Field(min_length=1)
    match: dict[IdentifierKind, MatchColumn] = Field(default_factory=dict)
    parent: ParentLink | None = None
    erase: TableErasure = Field(
        default="delete",
        description="delete the row; null or anonymise its columns; never (not erasable here)",
    )
    anonymise_with: str = DEFAULT_ANONYMISE_WITH
    not_erasable_reason: str = "this system's copy is not erased by Innsyn"

    _anonymise_with = field_validator("anonymise_with")(_recognisable)

    @field_validator("key", mode="before")
    @classmethod
    def _one_key(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    _short_columns = field_validator("columns", mode="before")(short_columns)
    _short_match = field_validator("match", mode="before")(short_match)

    @model_validator(mode="after")
    def _linked_once(self) -> TableMapping:
        if bool(self.match) == (self.parent is not None):
            raise ValueError(f"table {self.name}: give exactly one of `match` or `parent`")
        names = [c.name for c in self.columns]
        if len(names) != len(set(names)):
            raise ValueError(f"table {self.name}: a column is mapped twice")
        return self

    def column_category(self, column: ColumnMapping) -> str:
        return column.category or self.category

    def categories(self) -> set[str]:
        return {self.category} | {self.column_category(c) for c in self.columns}

    def replacement(self, column: ColumnMapping) -> str:
        return column.anonymise_with or self.anonymise_with

    def link_columns(self) -> set[str]:
        """Columns that find rows rather than describe the person: key and parent link."""
        return set(self.key) | ({self.parent.column} if self.parent else set())


class SqlMapping(_Strict):
    """Tables, validated as one graph: unique names, known parents, no cycles."""

    tables: list[TableMapping] = Field(min_length=1)
    customer_id_system: str | None = Field(
        default=None,
        description="Key in the request's customer_ids whose value this system knows "
        "(default: the connector instance name).",
    )

    @model_validator(mode="after")
    def _graph(self) -> SqlMapping:
        by_name = {t.name: t for t in self.tables}
        if len(by_name) != len(self.tables):
            raise ValueError("a table is mapped twice")
        for table in self.tables:
            seen = [table.name]
            link = table.parent
            while link is not None:
                parent = by_name.get(link.table)
                if parent is None:
                    raise ValueError(f"table {table.name}: parent {link.table} is not mapped")
                if link.parent_column is None and len(parent.key) != 1:
                    raise ValueError(f"table {table.name}: give parent_column (composite key)")
                if parent.name in seen:
                    raise ValueError(f"table {table.name}: parent links form a cycle")
                seen.append(parent.name)
                link = parent.parent
        return self

    def table(self, name: str) -> TableMapping:
        return next(t for t in self.tables if t.name == name)

    def children(self, name: str) -> list[TableMapping]:
        return [t for t in self.tables if t.parent is not None and t.parent.table == name]

    def depth(self, table: TableMapping) -> int:
        depth = 0
        while table.parent is not None:
            table = self.table(table.parent.table)
            depth += 1
        return depth

    def used_categories(self) -> set[str]:
        """Every category some mapped table or column holds."""
        return set().union(*(t.categories() for t in self.tables))

    def parent_column(self, link: ParentLink) -> str:
        return link.parent_column or self.table(link.table).key[0]


@dataclass(frozen=True)
class TableStep:
    """What erasure does to one table: delete rows, or overwrite some columns."""

    table: TableMapping
    delete: bool
    columns: dict[str, list[ColumnMapping]] = field(default_factory=dict)  # by category
    kept: list[str] = field(default_factory=list)
    never: set[str] = field(default_factory=set)  # requested categories this table won't erase


def erasure_plan(
    mapping: SqlMapping,
    requested: Collection[str],
    used: Collection[IdentifierKind] | None = None,
) -> list[TableStep]:
    """Steps for erasing ``requested`` categories, children before parents.

    A row is deleted only when its table erases by deletion, every category it stores is
    requested, and every child row is deleted too (so foreign keys hold and no retained data
    loses its parent). Otherwise the requested categories' columns are nulled or anonymised,
    and the columns that find retained data (identifiers, keys referenced by retained
    children) are kept so a later erasure, when a hold ends, can still reach it. Of the
    identifier columns only those of the kinds in ``used`` (the identifiers the request
    carries; default all) are kept: the follow-up erasure finds the person by the same ones.
    """
    wanted = set(requested)
    deletable: dict[str, bool] = {}
    complete: dict[str, bool] = {}

    def fully_erased(table: TableMapping) -> bool:
        if table.name not in complete:
            complete[table.name] = (
                table.erase != "never"
                and table.categories() <= wanted
                and all(fully_erased(c) for c in mapping.children(table.name))
            )
        return complete[table.name]

    def can_delete(table: TableMapping) -> bool:
        if table.name not in deletable:
            deletable[table.name] = (
                table.erase == "delete"
                and table.categories() <= wanted
                and all(can_delete(c) for c in mapping.children(table.name))
            )
        return deletable[table.name]

    steps: list[TableStep] = []
    ordered = sorted(mapping.tables, key=mapping.depth, reverse=True)
    for table in ordered:
        if not table.categories() & wanted:
            continue
        if table.erase == "never":
            steps.append(TableStep(table, delete=False, never=table.categories() & wanted))
        elif can_delete(table):
            steps.append(TableStep(table, delete=True))
        else:
            keep = not fully_erased(table)
            steps.append(_column_step(mapping, table, wanted, keep_reach=keep, used=used))
    return steps


def _column_step(
    mapping: SqlMapping,
    table: TableMapping,
    wanted: set[str],
    *,
    keep_reach: bool,
    used: Collection[IdentifierKind] | None,
) -> TableStep:
    reach = {m.column for kind, m in table.match.items() if used is None or kind in used}
    reach |= {mapping.parent_column(c.parent) for c in mapping.children(table.name) if c.parent}
    skip = table.link_columns() | (reach if keep_reach else set())
    columns: dict[str, list[ColumnMapping]] = {}
    kept: list[str] = []
    for column in table.columns:
        category = table.column_category(column)
        if category not in wanted or column.name in table.link_columns():
            continue
        if column.name in skip:
            kept.append(column.name)
            continue
        columns.setdefault(category, []).append(column)
    return TableStep(table, delete=False, columns=columns, kept=kept)
