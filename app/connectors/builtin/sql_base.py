"""What every SQL-backed connector (``sql``, ``invoicing``) does the same way.

One engine per instance, created on first use; the mapping checked against the live schema
once and cached; ``check()``, the collect loop and erasure of the categories no hold keeps.
A connector supplies its engine options and its :class:`SqlMapping`, and names the columns it
touches beyond the mapping, so that a typo fails at ``check()`` rather than mid-request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.connectors.builtin.sql_engine import EngineOptions, build_engine, mapped_errors
from app.connectors.builtin.sql_mapping import IdentifierKind, SqlMapping, erasure_plan
from app.connectors.builtin.sql_ops import Tally, collect_table, run_erasure
from app.connectors.builtin.sql_schema import BoundMapping, identifier_values
from app.connectors.protocol import (
    CollectResult,
    DataCategory,
    Health,
    Record,
    SubjectRef,
)

_KINDS: tuple[IdentifierKind, ...] = ("email", "phone", "national_id", "customer_id")


class SqlBackedConnector:
    """Engine, reflected mapping, ``check``, ``collect`` and ``aclose`` of a SQL connector."""

    def __init__(self, name: str, options: EngineOptions, mapping: SqlMapping) -> None:
        self.name = name
        self.mapping = mapping
        self._options = options
        self._engine: AsyncEngine | None = None
        self._bound: BoundMapping | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    def categories(self) -> Sequence[DataCategory]:
        raise NotImplementedError

    @property
    def system(self) -> str:
        """The key of the request's ``customer_ids`` that holds this system's customer id."""
        return self.mapping.customer_id_system or self.name

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            self._engine = build_engine(self._options)
        return self._engine

    def extra_columns(self) -> Mapping[str, Sequence[str]]:
        """Columns outside the mapping the connector reads or writes (checked on reflection)."""
        return {}

    def check_bound(self, bound: BoundMapping) -> None:
        """Checks of the config against the reflected schema; raising fails the reflection."""
        del bound

    async def bound_mapping(self, *, refresh: bool = False) -> BoundMapping:
        """The mapping checked against the live schema (reflected once, then cached)."""
        async with self._lock:
            if self._bound is None or refresh:
                async with self.engine.connect() as conn:
                    bound = await BoundMapping.reflect(
                        conn,
                        self.mapping,
                        schema=self._options.db_schema,
                        system=self.system,
                        extra_columns=self.extra_columns(),
                    )
                self.check_bound(bound)
                self._bound = bound
            return self._bound

    @asynccontextmanager
    async def connected(
        self, action: str, *, write: bool = False
    ) -> AsyncIterator[tuple[AsyncConnection, BoundMapping]]:
        """A connection (a transaction when ``write``) and the bound mapping, errors mapped."""
        async with mapped_errors(action):
            bound = await self.bound_mapping()
            async with self.engine.begin() if write else self.engine.connect() as conn:
                yield conn, bound

    def identifier_kinds(self, subject: SubjectRef) -> set[IdentifierKind]:
        """The kinds of identifier the request carries that this system can match on."""
        return {k for k in _KINDS if identifier_values(subject, k, self.system)}

    def declared(self, categories: Sequence[str]) -> list[str]:
        """``categories`` without repeats and without those this system does not hold."""
        names = {c.name for c in self.categories()}
        return [c for c in dict.fromkeys(categories) if c in names]

    async def check(self) -> Health:
        """Connect and compare the mapping with the real schema; name what is missing."""
        async with mapped_errors("check"):
            bound = await self.bound_mapping(refresh=True)
        detail = f"{len(bound.tables)} tables mapped"
        if bound.missing_indexes:
            detail += "; lookups without an index: " + ", ".join(bound.missing_indexes)
        return Health(ok=True, detail=detail)

    async def collect(self, subject: SubjectRef) -> CollectResult:
        """The person's rows of every mapped table, as one record per row and category."""
        records: list[Record] = []
        async with self.connected("collect") as (conn, bound):
            for table in self.mapping.tables:
                records += await collect_table(
                    conn, bound, table, subject, batch_size=self._options.batch_size
                )
        return CollectResult(records=self.arrange(records))

    def arrange(self, records: list[Record]) -> list[Record]:
        """The order ``collect`` reports records in: as read, table by table."""
        return records

    async def erase_free(
        self,
        conn: AsyncConnection,
        bound: BoundMapping,
        subject: SubjectRef,
        categories: Sequence[str],
    ) -> dict[str, Tally]:
        """Erase ``categories`` (none of them held) inside the caller's transaction."""
        steps = erasure_plan(self.mapping, categories, used=self.identifier_kinds(subject))
        return await run_erasure(conn, bound, steps, subject)

    async def aclose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None
