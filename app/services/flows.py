"""The flows: the one place where one capability's event drives another.

Use cases below change one thing and return what happened (a request became verified, a
hold ended and filed its follow-up erasure, an objection was upheld); the flows then start
what follows (plan the request, run the systems that waited for a proof, stop the tasks of a
closed request). Routers and scheduled jobs call the flows; nothing calls back up. Every
flow works inside the caller's unit of work.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import DsrRequest, LegalHold
from app.domain.requests import RequestStatus
from app.runtime import Runtime
from app.schemas.requests import CodeIn, RefuseIn, RequestCreate
from app.security import Principal
from app.services import holds, objections, planning, requests, restrictions, step_up, tasks


async def file_request(
    rt: Runtime, session: AsyncSession, *, principal: Principal, body: RequestCreate
) -> requests.Created:
    """File a request; one verified at once (an ID token, staff) is planned at once."""
    created = await requests.create(rt, session, principal=principal, body=body)
    await _plan_if_verified(rt, session, created.request)
    return created


async def verify(
    rt: Runtime, session: AsyncSession, request_id: str, *, principal: Principal, body: CodeIn
) -> DsrRequest:
    """Verify a request waiting for it (then plan it), or add a proof to one already
    verified (then run the systems that waited for that proof)."""
    request = await requests.get(session, request_id)
    if RequestStatus(request.status) is RequestStatus.received:
        request = await requests.verify(rt, session, request_id, principal=principal, body=body)
        await _plan_if_verified(rt, session, request)
        return request
    request = await step_up.prove_more(rt, session, request_id, principal=principal, body=body)
    await planning.release_waiting(rt, session, request)
    return request


async def refuse(
    rt: Runtime, session: AsyncSession, request_id: str, *, principal: Principal, body: RefuseIn
) -> DsrRequest:
    """Refuse, and nothing more runs for the request (a call already running finishes)."""
    request = await requests.refuse(rt, session, request_id, principal=principal, body=body)
    await tasks.cancel_open_tasks(rt, session, request.id, actor=principal.actor)
    return request


async def withdraw(
    rt: Runtime,
    session: AsyncSession,
    request_id: str,
    *,
    principal: Principal | None,
    token: str | None,
    reason: str | None,
) -> DsrRequest:
    """Withdraw at the person's wish or by staff, and stop the request's tasks."""
    request, actor = await requests.withdraw(
        rt, session, request_id, principal=principal, token=token, reason=reason
    )
    await tasks.cancel_open_tasks(rt, session, request.id, actor=actor.actor)
    return request


async def release_hold(
    rt: Runtime, session: AsyncSession, hold_id: str, *, principal: Principal, reason: str
) -> LegalHold:
    """End a hold by hand; the erasure it held back (if any) is planned."""
    hold, follow_up = await holds.release(rt, session, hold_id, principal=principal, reason=reason)
    await _plan(rt, session, follow_up)
    return hold


async def end_lapsed_hold(
    rt: Runtime, session: AsyncSession, hold: LegalHold, *, actor: str
) -> None:
    """A connector no longer finds the hold's reason; what it kept is erased."""
    await _plan(rt, session, await holds.end_lapsed(rt, session, hold, actor=actor))


async def expire_holds(rt: Runtime) -> int:
    """Scheduled: dated holds whose end has passed end, and what they kept is erased."""
    async with rt.db.session() as session:
        due = await holds.expiring(rt, session)
        for hold in due:
            await _plan(rt, session, await holds.expire(rt, session, hold))
    return len(due)


async def decide_objection(
    rt: Runtime,
    session: AsyncSession,
    request_id: str,
    *,
    principal: Principal,
    upheld: bool,
    grounds: str,
    categories: Sequence[str] = (),
) -> DsrRequest:
    """Record an Art. 21(1) decision; an upheld one erases (planned here) and the objection
    itself moves on."""
    request, follow_up = await objections.decide(
        rt,
        session,
        request_id,
        principal=principal,
        upheld=upheld,
        grounds=grounds,
        categories=categories,
    )
    await _plan(rt, session, follow_up)
    await planning.advance(rt, session, request)
    return request


async def lift_restriction(
    rt: Runtime,
    session: AsyncSession,
    request_id: str,
    *,
    principal: Principal,
    reason: str,
    effective_at: datetime | None,
    informed_otherwise: str | None,
) -> DsrRequest:
    """Tell the person, then plan the lift for the day announced."""
    request, follow_up = await restrictions.lift(
        rt,
        session,
        request_id,
        principal=principal,
        reason=reason,
        effective_at=effective_at,
        informed_otherwise=informed_otherwise,
    )
    await _plan(rt, session, follow_up)
    return request


async def _plan_if_verified(rt: Runtime, session: AsyncSession, request: DsrRequest) -> None:
    if request.status == RequestStatus.verified.value:
        await planning.start(rt, session, request)


async def _plan(rt: Runtime, session: AsyncSession, follow_up: DsrRequest | None) -> None:
    """A request the service filed itself is verified at once: plan it."""
    if follow_up is not None:
        await _plan_if_verified(rt, session, follow_up)
