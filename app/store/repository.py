"""The base of the repositories: one per aggregate, holding the SQL a router or flow would
otherwise write, on the caller's session (a repository never commits)."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from app.store.pages import Cursor, Page, newest_first

M = TypeVar("M", bound=SQLModel)


class RepositoryBase(Generic[M]):
    """Reads of one table; subclasses add the queries their aggregate needs."""

    model: type[M]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, id_: Any, *, for_update: bool = False) -> M | None:
        return await self.session.get(self.model, id_, with_for_update=for_update)

    def select(self) -> SelectOfScalar[M]:
        return select(self.model)

    async def page(
        self,
        query: SelectOfScalar[M],
        *,
        limit: int,
        cursor: str | None,
        spelling: Cursor[Any],
        key: Any = None,
    ) -> Page[M]:
        """Newest first by ``key`` (the primary key ``id`` unless named)."""
        column = key if key is not None else self.model.id  # type: ignore[attr-defined]
        return await newest_first(
            self.session, query, column, limit=limit, cursor=cursor, spelling=spelling
        )
