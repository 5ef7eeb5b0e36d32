"""Proving more about a verified request's person (Art. 12(6), proportionate step-up).

An ID token that proves the national id a registry needs, or staff confirming identifiers
the person only claimed: the proof is added to the request and audited; the flows then run
the tasks that waited for it.
"""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import DsrRequest
from app.domain.errors import InvalidInput, InvalidTransition
from app.domain.identity import Identity
from app.domain.requests import RequestStatus
from app.runtime import Runtime
from app.schemas.requests import CodeIn
from app.security import Principal
from app.services import audit, id_tokens, requests
from app.services.subjects import SubjectVault

_PROVABLE = frozenset(
    {RequestStatus.verified, RequestStatus.in_progress, RequestStatus.awaiting_manual}
)


async def prove_more(
    rt: Runtime, session: AsyncSession, request_id: str, *, principal: Principal, body: CodeIn
) -> DsrRequest:
    """Step-up: an ID token or a staff confirmation proves more (the flows then run the
    systems that waited for it)."""
    request = await requests.get(session, request_id, for_update=True)
    if RequestStatus(request.status) not in _PROVABLE:
        raise InvalidTransition(f"the request is {request.status}: nothing more to prove")
    if body.id_token is not None:
        checked = await requests.bound_token(rt, session, request, principal, body, step_up=True)
        await id_tokens.remember(rt, session, checked.token, request.id)
        proof = checked.proof(rt.clock.now())
        detail = checked.audit_detail()
    elif body.method == "staff":
        proof = requests.attestation(rt, request, principal, body)
        vault = SubjectVault(rt.cipher)
        reviews = sum(1 for key in vault.notes(request) if key.startswith("identity_review"))
        vault.add_note(request, f"identity_review_{reviews + 1}", body.note or "")
        detail = {"method": "staff"}
    elif body.code is not None:
        raise InvalidTransition("the request is already verified; prove more with an id_token")
    else:
        raise InvalidInput("send an id_token, or method=staff with a note and what you checked")
    before = Identity.from_json(request.identity)
    request.identity = before.with_proof(proof).as_json()
    request.updated_at = rt.clock.now()
    session.add(request)
    await audit.append(
        session,
        at=request.updated_at,
        actor=principal.actor,
        action="request.identity_proven",
        request_id=request.id,
        detail=detail | requests.proof_detail(proof),
    )
    return request
