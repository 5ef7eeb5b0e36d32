"""Staff decisions on objections under Art. 21(1) (processing on public task or legitimate
interest), and what an upheld objection sets in motion."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import DsrRequest
from app.domain import letters, objections
from app.domain.errors import InvalidInput, InvalidTransition
from app.domain.identity import Identity
from app.domain.requests import Action, RequestKind, RequestStatus, require_staff_role
from app.runtime import Runtime
from app.security import Principal
from app.services import audit, letter_outbox, letterhead
from app.services.requests import create_follow_up, get
from app.services.subjects import SubjectVault

_STARTED = {RequestStatus.in_progress.value, RequestStatus.awaiting_manual.value}


async def decide(
    rt: Runtime,
    session: AsyncSession,
    request_id: str,
    *,
    principal: Principal,
    upheld: bool,
    grounds: str,
    categories: Sequence[str] = (),
) -> tuple[DsrRequest, DsrRequest | None]:
    """Record the decision (a column) and its grounds (sealed), audit it, and tell the person; returns
    the request and, when upheld, the erasure it files (for the flows to plan).

    Upheld: processing on 6(1)(e)/(f) stops: the service files an erasure of those
    categories (or of the ``categories`` the approver names), which keeps what legal holds
    cover and tells the person what was kept. Rejected: processing goes on; the letter states
    the compelling grounds and the remedies.
    """
    require_staff_role(Action.refuse, principal.roles)  # the approver's call, as a refusal is
    request = await get(session, request_id, for_update=True)
    if request.kind != RequestKind.objection.value:
        raise InvalidTransition("only objections get an objection decision")
    if request.status not in _STARTED:
        raise InvalidTransition(f"the request is {request.status}: only a verified, open one")
    vault = SubjectVault(rt.cipher)
    if request.objection_decision is not None:
        raise InvalidTransition("the objection has already been decided")
    subject, purposes = vault.subject(request), objections.purposes_of(vault.details(request))
    if not objections.needs_decision(purposes):
        raise InvalidTransition("a direct-marketing objection is absolute: nothing to decide")
    _check_categories(rt, categories)
    decision = objections.Decision.upheld if upheld else objections.Decision.rejected
    request.objection_decision = decision.value
    vault.add_note(request, "objection_grounds", grounds)
    request.updated_at = rt.clock.now()
    session.add(request)
    detail: dict[str, object] = {"decision": decision.value}
    follow_up = None
    if upheld:
        follow_up = await create_follow_up(
            rt,
            session,
            kind=RequestKind.erasure,  # Art. 17(1)(c), holds permitting
            subject=subject,
            proven=Identity.from_json(request.identity).proven,
            details={
                "objection_upheld": {"request_id": request.id, "categories": list(categories)},
                "purposes": purposes,
            },
            language=request.language,
            reason="objection_upheld",
        )
        request.objection_follow_up_id = follow_up.id
        detail["follow_up_request_id"] = follow_up.id
    await audit.append(
        session,
        at=request.updated_at,
        actor=principal.actor,
        action="objection.decided",
        request_id=request.id,
        detail=detail,
    )
    letter = letters.objection_decision(
        request.language,
        request.id,
        upheld,
        grounds,
        controller=letterhead.controller(rt),
    )
    await letter_outbox.tell(rt, session, request, letter, kind="objection_decision")
    return request, follow_up


def _check_categories(rt: Runtime, categories: Sequence[str]) -> None:
    """Named categories must exist and be processed on a basis 21(1) reaches."""
    declared = {
        c.name: c.legal_basis for i in rt.connectors.active() for c in i.connector.categories()
    }
    for name in categories:
        if name not in declared:
            raise InvalidInput(f"no connector declares the category {name!r}", field="categories")
        if not objections.objectable(declared[name]):
            raise InvalidInput(
                f"{name!r} is not processed on 6(1)(e) or (f): Art. 21(1) does not reach it",
                field="categories",
            )
