"""Completing by hand a request where no system was searched, with a statement.

A request whose plan has no task (no connector configured, none holding what it reaches)
or whose every system was left out is not done by itself: telling the person "your answer
is ready" when nothing was searched would be untrue. It waits in ``awaiting_manual`` until
an operator completes it with an explicit statement of what was done instead (e.g. "we
hold no data about you in any system: we checked X and Y by hand"); the statement goes into
the outcome and the completion letter.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import DsrRequest
from app.domain.errors import InvalidTransition, NotPermitted
from app.domain.requests import RequestStatus, Role
from app.runtime import Runtime
from app.security import Principal
from app.services import audit, planning, requests


async def complete_with_statement(
    rt: Runtime, session: AsyncSession, request_id: str, *, principal: Principal, statement: str
) -> DsrRequest:
    """Complete a request no system was searched for; the statement is the answer."""
    if not principal.has_any(frozenset({Role.operator})):
        raise NotPermitted("this needs the operator role")
    request = await requests.get(session, request_id, for_update=True)
    if request.status != RequestStatus.awaiting_manual.value:
        raise InvalidTransition(
            f"only a request awaiting staff can be completed by hand; this one is {request.status}",
            current_status=request.status,
            action="complete",
        )
    counts = await planning.task_counts(session, request.id)
    reason = await planning.nothing_searched(rt, session, request.id, counts)
    if reason is None:
        raise InvalidTransition(
            "systems were searched for this request: it completes when its tasks are done "
            "(close manual or failed ones with POST …/tasks/{task_id}/complete)",
            current_status=request.status,
            action="complete",
        )
    await audit.append(
        session,
        at=rt.clock.now(),
        actor=principal.actor,
        action="request.statement_given",
        request_id=request.id,
        detail={"reason": reason, "statement_chars": len(statement)},
    )
    extra = {"statement": statement, "completed_by": principal.actor, "not_searched": reason}
    await planning.complete(rt, session, request, principal, extra=extra)
    return request
