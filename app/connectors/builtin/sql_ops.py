"""What the SQL-backed connectors do to the database: collect, erase, rectify, restrict.

Every statement selects the person's rows with bound identifiers (see ``person_filter``);
collect streams them in batches through a server-side cursor, so no table is ever read whole.
"""

from __future__ import annotations

import base64
import re
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Column, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from app.connectors.builtin.sql_mapping import (
    RANDOM_MARKER,
    ColumnMapping,
    TableMapping,
    TableStep,
)
from app.connectors.builtin.sql_schema import BoundMapping
from app.connectors.protocol import CategoryErasure, ErasureOutcome, Record, SubjectRef

_RANDOM_BYTES = 12


def jsonable(value: Any) -> Any:
    """A JSON-friendly copy of a column value (exact decimals as strings)."""
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    return value


def _erased_value(pattern: re.Pattern[str], value: Any) -> bool:
    return value is None or (isinstance(value, str) and pattern.fullmatch(value) is not None)


@lru_cache(maxsize=256)
def _replacement_regex(replacement: str) -> re.Pattern[str]:
    parts = [re.escape(p) for p in replacement.split(RANDOM_MARKER)]
    return re.compile("[0-9a-f]{1,24}".join(parts))


def record_id(table: TableMapping, row: RowMapping) -> str:
    return f"{table.name}:" + "/".join(str(row[k]) for k in table.key)


def row_records(table: TableMapping, row: RowMapping) -> list[Record]:
    """One record per category the row holds; already erased groups are left out."""
    groups: dict[str, dict[str, Any]] = {}
    erased: dict[str, bool] = {}
    for column in table.columns:
        category = table.column_category(column)
        value = row[column.name]
        groups.setdefault(category, {})[column.name] = jsonable(value)
        gone = _erased_value(_replacement_regex(table.replacement(column)), value)
        erased[category] = erased.get(category, True) and gone
    rid = record_id(table, row)
    return [
        Record(category=category, id=rid, data=data)
        for category, data in groups.items()
        if not erased[category]
    ]


async def collect_table(
    conn: AsyncConnection,
    bound: BoundMapping,
    table: TableMapping,
    subject: SubjectRef,
    *,
    batch_size: int,
) -> list[Record]:
    """The person's rows of one table as records, fetched ``batch_size`` rows at a time."""
    where = bound.person_filter(table, subject)
    if where is None:
        return []
    keys = bound.key_columns(table)
    wanted = [*table.key, *(c.name for c in table.columns if c.name not in table.key)]
    columns = [bound.column(table.name, name) for name in wanted]
    stmt = select(*columns).where(where).order_by(*keys)
    # Most people have a few rows per table: one plain read finds them all (a round trip),
    # and only a person with more than a batch is read again, a batch at a time.
    first = (await conn.execute(stmt.limit(batch_size + 1))).mappings().all()
    if len(first) <= batch_size:
        return [record for row in first for record in row_records(table, row)]
    del first
    records: list[Record] = []
    result = await conn.stream(stmt.execution_options(yield_per=batch_size))
    async for partition in result.mappings().partitions():
        for row in partition:
            records.extend(row_records(table, row))
    return records


@dataclass
class Tally:
    """What erasure did to one category, summed over tables."""

    deleted: int = 0
    nulled: int = 0
    anonymised: int = 0
    kept: list[str] = field(default_factory=list)
    never: str | None = None


async def run_erasure(
    conn: AsyncConnection, bound: BoundMapping, steps: Sequence[TableStep], subject: SubjectRef
) -> dict[str, Tally]:
    """Execute an erasure plan inside the caller's transaction; returns a tally per category."""
    tallies: dict[str, Tally] = {}
    for step in steps:
        table = step.table
        for category in step.never:
            tallies.setdefault(category, Tally()).never = table.not_erasable_reason
        where = bound.person_filter(table, subject)
        if where is None or step.never:
            continue
        if step.delete:
            result = await conn.execute(delete(bound.tables[table.name]).where(where))
            for category in table.categories():
                tallies.setdefault(category, Tally()).deleted += max(result.rowcount, 0)
            continue
        await _overwrite(conn, bound, step, where, tallies)
    return tallies


async def _overwrite(
    conn: AsyncConnection,
    bound: BoundMapping,
    step: TableStep,
    where: ColumnElement[bool],
    tallies: dict[str, Tally],
) -> None:
    """Null or anonymise the columns of the person's rows that still hold data.

    The rows are read once, then updated by key: overwriting an identifier column can then
    never hide a row from the next category's update. Rows already erased are not counted, so
    a second erasure changes nothing. Columns that stay (identifiers that reach retained data,
    ``keep`` columns) are tallied as kept when the person has rows here.
    """
    table = step.table
    modes = {c.name: bound.column_mode(table, c) for g in step.columns.values() for c in g}
    by_category = {
        category: [c for c in group if modes[c.name] != "keep"]
        for category, group in step.columns.items()
    }
    columns = [c for group in by_category.values() for c in group]
    keys = bound.key_columns(table)
    selected = [*keys, *(bound.column(table.name, c.name) for c in columns)]
    rows = (await conn.execute(select(*selected).where(where))).mappings().all()
    if rows:
        kept = [c.name for g in step.columns.values() for c in g if modes[c.name] == "keep"]
        for name in [*step.kept, *kept]:
            category = table.column_category(_mapped(table, name))
            tallies.setdefault(category, Tally()).kept.append(f"{table.name}.{name}")
    batches: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        assigned: dict[str, Any] = {}
        for category, group in by_category.items():
            pending = [c for c in group if _holds_data(table, c, modes[c.name], row[c.name])]
            if not pending:
                continue
            assigned |= {c.name: _new_value(bound, table, c, modes[c.name]) for c in pending}
            tally = tallies.setdefault(category, Tally())
            if any(modes[c.name] == "anonymise" for c in pending):
                tally.anonymised += 1
            else:
                tally.nulled += 1
        if assigned:
            row_params: dict[str, Any] = {f"k_{i}": row[k.name] for i, k in enumerate(keys)}
            row_params |= {f"v_{name}": value for name, value in assigned.items()}
            batches.setdefault(tuple(sorted(assigned)), []).append(row_params)
    key_match = and_(*(k == bindparam(f"k_{i}") for i, k in enumerate(keys)))
    for names, params in batches.items():
        new_values: dict[str, Any] = {name: bindparam(f"v_{name}") for name in names}
        stmt = update(bound.tables[table.name]).where(key_match).values(new_values)
        await conn.execute(stmt, params)


def _mapped(table: TableMapping, name: str) -> ColumnMapping:
    return next(c for c in table.columns if c.name == name)


def _holds_data(table: TableMapping, column: ColumnMapping, mode: str, value: Any) -> bool:
    if value is None:
        return False
    if mode == "null":
        return True
    return not _erased_value(_replacement_regex(table.replacement(column)), value)


def _new_value(
    bound: BoundMapping, table: TableMapping, column: ColumnMapping, mode: str
) -> str | None:
    if mode == "null":
        return None
    template = table.replacement(column)
    if RANDOM_MARKER not in template:
        return template
    token = secrets.token_hex(_RANDOM_BYTES)[: bound.random_room(table, column)]
    return template.replace(RANDOM_MARKER, token)


def erasure_results(
    requested: Sequence[str], tallies: Mapping[str, Tally]
) -> list[CategoryErasure]:
    """One entry per requested category (two when part of it cannot be erased here)."""
    entries: list[CategoryErasure] = []
    for category in dict.fromkeys(requested):
        tally = tallies.get(category, Tally())
        count = tally.deleted + tally.nulled + tally.anonymised
        if tally.never is not None:
            entries.append(
                CategoryErasure(
                    category=category, outcome=ErasureOutcome.not_erasable, reason=tally.never
                )
            )
            if count == 0:
                continue
        if tally.deleted or tally.nulled:
            outcome = ErasureOutcome.erased
        elif tally.anonymised:
            outcome = ErasureOutcome.anonymised
        else:
            outcome = ErasureOutcome.not_found
        entries.append(CategoryErasure(category=category, outcome=outcome, count=count))
        if tally.kept:
            kept = ", ".join(sorted(set(tally.kept)))
            entries.append(
                CategoryErasure(
                    category=category,
                    outcome=ErasureOutcome.not_erasable,
                    reason=f"{kept} kept while the row holds retained data of other "
                    "categories (or links to it); erased with them",
                )
            )
    return entries


async def count_rows(conn: AsyncConnection, where: ColumnElement[bool], table: Any) -> int:
    result = await conn.execute(select(func.count()).select_from(table).where(where))
    return int(result.scalar_one())


async def set_columns(
    conn: AsyncConnection,
    bound: BoundMapping,
    table: TableMapping,
    subject: SubjectRef,
    values: Mapping[str, Any],
) -> tuple[int, int]:
    """Set columns on the person's rows; returns (rows found, rows changed). Idempotent."""
    where = bound.person_filter(table, subject)
    if where is None:
        return 0, 0
    sa_table = bound.tables[table.name]
    found = await count_rows(conn, where, sa_table)
    if not found:
        return 0, 0
    columns: list[Column[Any]] = [bound.column(table.name, name) for name in values]
    differs = or_(*(c.is_distinct_from(values[c.name]) for c in columns))
    result = await conn.execute(update(sa_table).where(and_(where, differs)).values(dict(values)))
    return found, max(result.rowcount, 0)
