"""One way to page a list: keyset cursors.

Every list endpoint pages the same way: newest first by a key that only grows (an id, a
sequence number), ``limit`` rows at a time, and an opaque ``next_cursor`` that says where the
next page starts. A row added meanwhile never shifts a page, as an offset would. Each list
keeps its cursor's spelling (``Cursor``), so cursors already handed out stay valid.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from app.domain.errors import InvalidInput

T = TypeVar("T")
K = TypeVar("K")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class Cursor(Generic[K]):
    """How a page's last key is written into a cursor and read back (invalid: 422)."""

    encode: Callable[[K], str]
    decode: Callable[[str], K]


def _invalid() -> InvalidInput:
    return InvalidInput("cursor is not valid", field="cursor")


def _digits(cursor: str) -> int:
    if not cursor.isdigit():
        raise _invalid()
    return int(cursor)


def prefixed_b64(prefix: str) -> Cursor[str]:
    """An id (starting with ``prefix``) in URL-safe base64."""

    def decode(cursor: str) -> str:
        try:
            value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        except (ValueError, UnicodeDecodeError) as exc:
            raise _invalid() from exc
        if not value.startswith(prefix):
            raise _invalid()
        return value

    return Cursor(lambda key: base64.urlsafe_b64encode(key.encode()).decode().rstrip("="), decode)


ID = Cursor[str](str, str)
"""The last id as it is (ids sort by creation time)."""
NUMBER = Cursor[int](str, _digits)
"""The last sequence number or integer id."""


async def newest_first(
    session: AsyncSession,
    query: SelectOfScalar[T],
    key: Any,
    *,
    limit: int,
    cursor: str | None,
    spelling: Cursor[Any],
) -> Page[T]:
    """The page of ``query`` after ``cursor``, by ``key`` (a column) descending."""
    column, name = col(key), str(key.key)
    if cursor:
        query = query.where(column < spelling.decode(cursor))
    rows = list(await session.exec(query.order_by(column.desc()).limit(limit + 1)))
    return _cut(rows, limit, lambda row: getattr(row, name), spelling)


def oldest_first(
    items: Sequence[T],
    key: Callable[[T], K],
    *,
    limit: int,
    cursor: str | None,
    spelling: Cursor[K],
) -> Page[T]:
    """The page of an ordered list already read (to check it whole) after ``cursor``."""
    after = spelling.decode(cursor) if cursor else None
    rest = [i for i in items if after is None or key(i) > after]  # type: ignore[operator]
    return _cut(rest[: limit + 1], limit, key, spelling)


def _cut(rows: list[T], limit: int, key: Callable[[T], Any], spelling: Cursor[Any]) -> Page[T]:
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, spelling.encode(key(rows[-1])) if more and rows else None)
