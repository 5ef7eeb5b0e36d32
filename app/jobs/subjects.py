"""The person a task is about, decrypted once per request while its tasks run in this worker.

A request's fifty tasks start together: one database read and one decryption serve them all,
and the plaintext is dropped as soon as the last of them is done.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.connectors.protocol import SubjectRef
from app.db.models import DsrRequest
from app.domain.identity import Identity
from app.jobs.execute import subject_ref
from app.runtime import Runtime
from app.services.requests import get
from app.services.subjects import SubjectVault

Loaded = tuple[SubjectRef, dict[str, Any]]


class SubjectCache:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self._loading: dict[str, asyncio.Task[Loaded]] = {}
        self._users: dict[str, int] = {}
        self._ready: dict[str, Loaded] = {}

    @asynccontextmanager
    async def use(self, request_id: str) -> AsyncIterator[Loaded]:
        """The subject and request details, shared by the request's tasks running here."""
        self._users[request_id] = self._users.get(request_id, 0) + 1
        try:
            if request_id in self._ready:  # read when the task was claimed
                yield self._ready[request_id]
                return
            loading = self._loading.get(request_id)
            if loading is None or (loading.done() and loading.exception() is not None):
                loading = asyncio.create_task(self._load(request_id))
                self._loading[request_id] = loading
            yield await asyncio.shield(loading)
        finally:
            self._users[request_id] -= 1
            if self._users[request_id] <= 0:
                self._users.pop(request_id, None)
                self._loading.pop(request_id, None)
                self._ready.pop(request_id, None)

    async def preload(self, session: AsyncSession, request_ids: set[str]) -> None:
        """Read the subjects of just-claimed tasks in the claiming transaction."""
        wanted = [r for r in request_ids if r not in self._ready]
        if not wanted:
            return
        rows = await session.exec(select(DsrRequest).where(col(DsrRequest.id).in_(wanted)))
        for request in rows:
            self._ready[request.id] = self._open(request)

    async def _load(self, request_id: str) -> Loaded:
        if request_id in self._ready:
            return self._ready[request_id]
        async with self.rt.db.session() as session:
            return self._open(await get(session, request_id))

    def _open(self, request: DsrRequest) -> Loaded:
        vault = SubjectVault(self.rt.cipher)
        proven = Identity.from_json(request.identity).proven
        return subject_ref(request.id, vault.subject(request), proven), vault.details(request)
