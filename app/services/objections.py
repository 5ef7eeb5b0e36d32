"""Staff decisions on objections under Art. 21(1) (processing on legitimate interest)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import DsrRequest
from app.domain import letters
from app.domain.errors import InvalidTransition
from app.domain.requests import Action, RequestKind, RequestStatus, require_staff_role
from app.runtime import Runtime
from app.security import Principal
from app.services import audit
from app.services.requests import get
from app.services.subjects import SubjectVault


async def decide(
    rt: Runtime,
    session: AsyncSession,
    request_id: str,
    *,
    principal: Principal,
    upheld: bool,
    grounds: str,
) -> DsrRequest:
    """Record the decision and its grounds (sealed), audit it, and tell the person."""
    require_staff_role(Action.refuse, principal.roles)  # the approver's call, as a refusal is
    request = await get(session, request_id, for_update=True)
    if request.kind != RequestKind.objection.value:
        raise InvalidTransition("only objections get an objection decision")
    if request.status in (RequestStatus.withdrawn.value, RequestStatus.refused.value):
        raise InvalidTransition(f"the request is {request.status}")
    vault = SubjectVault(rt.cipher)
    if "objection_decision" in vault.notes(request):
        raise InvalidTransition("the objection has already been decided")
    vault.add_note(request, "objection_decision", "upheld" if upheld else "rejected")
    vault.add_note(request, "objection_grounds", grounds)
    request.updated_at = rt.clock.now()
    session.add(request)
    await audit.append(
        session,
        at=request.updated_at,
        actor=principal.actor,
        action="objection.decided",
        request_id=request.id,
        detail={"decision": "upheld" if upheld else "rejected"},
    )
    email = vault.subject(request).get("email")
    if email:
        letter = letters.objection_decision(request.language, request.id, upheld, grounds)
        await rt.mailer.send(email, letter)
    return request
