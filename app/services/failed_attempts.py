"""The record of a refused attempt (a wrong code, a rejected ID token) outlives the refusal.

The refusal is an error, so the request's transaction rolls back; the audit event (and, for
a code, the try counter) is written in a unit of work of its own once it has: no service
commits half-way, and no lock of the failed transaction is held while it is written.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.engine import after_rollback
from app.db.models import VerificationChallenge
from app.runtime import Runtime
from app.security import Principal
from app.services import audit


def record(
    rt: Runtime,
    session: AsyncSession,
    principal: Principal,
    action: str,
    *,
    request_id: str | None = None,
    detail: dict[str, Any] | None = None,
    count_code_try: bool = False,
) -> None:
    """Write ``action`` to the audit trail once ``session`` has rolled back."""
    at = rt.clock.now()

    async def write() -> None:
        async with rt.db.session() as own:
            if count_code_try and request_id is not None:
                await own.exec(
                    update(VerificationChallenge)
                    .where(col(VerificationChallenge.request_id) == request_id)
                    .values(attempts=VerificationChallenge.attempts + 1)
                )
            await audit.append(
                own,
                at=at,
                actor=principal.actor,
                action=action,
                request_id=request_id,
                detail=detail,
            )

    after_rollback(session, f"failed-attempt:{action}:{request_id}", write)
