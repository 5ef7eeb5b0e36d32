"""Fixtures for the fan-out tests: requests filed by staff, and a worker driven in-process."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlmodel import col, select

from app.db.models import AuditEvent, DsrRequest, Task
from app.domain.requests import Role
from app.runtime import Runtime
from app.schemas.requests import RequestCreate
from app.security import Principal
from app.services import flows, requests

OPERATOR = Principal(kind="staff", id="operator-1", roles=frozenset({Role.operator}))
EMAIL = "kari.nordmann@example.no"


async def file_verified(
    rt: Runtime,
    kind: str = "access",
    *,
    email: str = EMAIL,
    details: dict[str, Any] | None = None,
) -> str:
    """A request filed by staff with identity attested: verified (and planned) at once."""
    body = RequestCreate.model_validate(
        {
            "kind": kind,
            "subject": {"email": email},
            "details": details or {},
            "verification": {"method": "staff", "note": "known customer, called back"},
        }
    )
    async with rt.db.session() as session:
        created = await flows.file_request(rt, session, principal=OPERATOR, body=body)
    return created.request.id


async def load(rt: Runtime, request_id: str) -> tuple[DsrRequest, dict[str, Task]]:
    """The request and its tasks by connector (and action, when a connector has several)."""
    async with rt.db.session() as session:
        request = await requests.get(session, request_id)
        rows = list(await session.exec(select(Task).where(Task.request_id == request_id)))
    by_name: dict[str, Task] = {}
    for task in rows:
        key = task.connector if task.connector not in by_name else f"{task.connector}:{task.action}"
        by_name[key] = task
    return request, by_name


async def audit_actions(rt: Runtime, request_id: str) -> list[str]:
    async with rt.db.session() as session:
        rows = await session.exec(
            select(AuditEvent.action)
            .where(AuditEvent.stream == request_id)
            .order_by(col(AuditEvent.seq))
        )
        return list(rows)


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], *, guard: float = 20.0, step: float = 0.01
) -> None:
    """Wait until ``check`` holds. The guard only turns a hang into a failure; nothing here
    asserts on timing."""
    async with asyncio.timeout(guard):
        while True:
            result = check()
            if isinstance(result, Awaitable):
                result = await result
            if result:
                return
            await asyncio.sleep(step)
