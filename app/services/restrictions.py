"""Lifting a restriction the person obtained (Art. 18(3)): they are told first.

The lift is a follow-up restriction request (``details.lift``) the service files itself, whose
tasks wait until the date the person was given. The original request records when the person
was told, how, and which request lifts it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import DsrRequest
from app.domain import deadlines, letters
from app.domain.errors import InvalidInput, InvalidTransition
from app.domain.identity import Identity
from app.domain.requests import Action, RequestKind, RequestStatus, require_staff_role
from app.runtime import Runtime
from app.security import Principal
from app.services import audit, letter_outbox, letterhead
from app.services.requests import create_follow_up, get
from app.services.subjects import SubjectVault

MAX_NOTICE = timedelta(days=28)
CLOCK_SKEW = timedelta(minutes=5)  # the lift runs before its own request's one-month deadline


async def lift(
    rt: Runtime,
    session: AsyncSession,
    request_id: str,
    *,
    principal: Principal,
    reason: str,
    effective_at: datetime | None,
    informed_otherwise: str | None,
) -> tuple[DsrRequest, DsrRequest]:
    """Tell the person (e-mail, or staff note how they were told), then schedule the lift:
    returns the request and the lift it files (for the flows to plan)."""
    require_staff_role(Action.refuse, principal.roles)  # an approver's call
    request = await get(session, request_id, for_update=True)
    vault = SubjectVault(rt.cipher)
    _check_liftable(request, vault.details(request))
    now = rt.clock.now()
    when = effective_at or now + timedelta(days=rt.settings.restriction_lift_notice_days)
    if not now - CLOCK_SKEW <= when <= now + MAX_NOTICE:
        raise InvalidInput("effective_at must be from now to 28 days ahead", field="effective_at")
    when = max(when, now)  # "now" as the caller's clock saw it a moment ago
    subject = vault.subject(request)
    email = subject.get("email")
    if email is None and not informed_otherwise:
        raise InvalidInput(
            "the request has no e-mail: say how the person was told (informed_otherwise)",
            field="informed_otherwise",
        )
    if email is not None:
        letter = letters.restriction_lift(
            request.language,
            request.id,
            reason,
            deadlines.receipt_date(when),
            controller=letterhead.controller(rt),
        )
        await letter_outbox.queue(rt, session, request, email, letter, kind="restriction_lift")
    follow_up = await create_follow_up(
        rt,
        session,
        kind=RequestKind.restriction,
        subject=subject,
        proven=Identity.from_json(request.identity).proven,
        details={"lift": True, "lifts": request.id, "not_before": when.isoformat()},
        language=request.language,
        reason="restriction_lift",
    )
    vault.add_note(request, "lift_reason", reason)
    if informed_otherwise:
        vault.add_note(request, "lift_informed_otherwise", informed_otherwise)
    told = "email" if email is not None else "otherwise"
    request.outcome = (request.outcome or {}) | {
        "restriction_lift": {
            "request_id": follow_up.id,
            "notified_at": now.isoformat(),
            "notified_by": told,
            "effective_at": when.isoformat(),
        }
    }
    request.updated_at = now
    session.add(request)
    await audit.append(
        session,
        at=now,
        actor=principal.actor,
        action="restriction.lift_notified",
        request_id=request.id,
        detail={"follow_up_request_id": follow_up.id, "effective_at": when.isoformat()},
    )
    return request, follow_up


def _check_liftable(request: DsrRequest, details: dict[str, Any]) -> None:
    if request.kind != RequestKind.restriction.value or details.get("lift"):
        raise InvalidTransition("only a restriction the person obtained can be lifted")
    if request.status != RequestStatus.completed.value:
        raise InvalidTransition(f"the restriction is not in place: the request is {request.status}")
    if (request.outcome or {}).get("restriction_lift"):
        raise InvalidTransition("the lift of this restriction is already scheduled")
