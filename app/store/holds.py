"""Reading legal holds for staff lists."""

from __future__ import annotations

from app.db.models import LegalHold
from app.store.pages import ID, Page
from app.store.repository import RepositoryBase


class HoldRepository(RepositoryBase[LegalHold]):
    model = LegalHold

    async def listed(
        self,
        *,
        status: str | None,
        request_id: str | None,
        connector: str | None,
        limit: int,
        cursor: str | None,
    ) -> Page[LegalHold]:
        """Holds, newest first, narrowed by whichever filters are given."""
        query = self.select()
        if status:
            query = query.where(LegalHold.status == status)
        if request_id:
            query = query.where(LegalHold.request_id == request_id)
        if connector:
            query = query.where(LegalHold.connector == connector)
        return await self.page(query, limit=limit, cursor=cursor, spelling=ID)
