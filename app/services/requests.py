"""Use cases that change a request: create, verify, extend, refuse, withdraw.

Every function works inside the caller's transaction (it flushes, never commits), so a state
change and its audit event land together or not at all.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import DsrRequest, VerificationChallenge
from app.domain import deadlines, identity, letters, objections, refusals
from app.domain.errors import (
    InvalidInput,
    InvalidTransition,
    NotFound,
    NotPermitted,
    TooManyAttempts,
    Unauthenticated,
    VerificationFailed,
)
from app.domain.identity import IdentifierKind, Identity, Proof, ProofMethod
from app.domain.refusals import RefusalReason
from app.domain.requests import (
    TERMINAL,
    Action,
    Channel,
    RequestKind,
    RequestStatus,
    Role,
    next_status,
    require_staff_role,
)
from app.ids import new_id
from app.runtime import Runtime
from app.schemas.requests import CodeIn, ExtendIn, RefuseIn, RequestCreate, VerificationIn
from app.security import SYSTEM, Principal
from app.services import (
    audit,
    failed_attempts,
    id_tokens,
    letter_outbox,
    letterhead,
    suppression,
    webhooks,
)
from app.services.subjects import SubjectVault

log = structlog.get_logger(__name__)
CREATE_ROLES = frozenset({Role.operator, Role.approver, Role.admin})
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


@dataclass(frozen=True)
class Created:
    request: DsrRequest
    status_token: str


async def get(session: AsyncSession, request_id: str, *, for_update: bool = False) -> DsrRequest:
    """The request, or ``NotFound``; ``for_update`` locks the row on PostgreSQL."""
    row = await session.get(DsrRequest, request_id, with_for_update=for_update)
    if row is None:
        raise NotFound(f"no request with id {request_id}")
    return row


async def transition(
    rt: Runtime,
    session: AsyncSession,
    request: DsrRequest,
    action: Action,
    principal: Principal,
    *,
    detail: dict[str, Any] | None = None,
) -> None:
    """Apply one lifecycle step and audit it; the domain decides whether it is legal."""
    before = RequestStatus(request.status)
    after = next_status(before, action)
    now = rt.clock.now()
    request.status = after.value
    request.updated_at = now
    if after is RequestStatus.completed:
        request.completed_at = now
    if after in TERMINAL:
        request.closed_at = now
    session.add(request)
    log.info(
        "request_transition",
        request_id=request.id,
        action=action.value,
        from_status=before.value,
        to_status=after.value,
        actor_kind=principal.kind,
    )
    await audit.append(
        session,
        at=now,
        actor=principal.actor,
        action=f"request.{action.value}",
        request_id=request.id,
        from_status=before.value,
        to_status=after.value,
        detail=detail,
    )


def _check_creator(principal: Principal, body: RequestCreate) -> None:
    if principal.kind == "form":
        if body.received_at is not None or body.channel not in (None, Channel.web):
            raise NotPermitted("received_at and channel may only be set by staff")
        if body.verification is not None:
            raise NotPermitted("only staff can attest a person's identity")
        return
    if not principal.has_any(CREATE_ROLES):
        raise NotPermitted("filing a request needs the operator, approver or admin role")
    if body.channel is Channel.system:
        raise InvalidInput("channel 'system' is reserved for requests the service files itself")
    if body.verification is not None:
        require_staff_role(Action.verify, principal.roles)


async def create(
    rt: Runtime, session: AsyncSession, *, principal: Principal, body: RequestCreate
) -> Created:
    """File a request: the one-month clock starts at ``received_at`` (D2, D3).

    What verifies it decides what it may reach: an ID token bound to the subject, a staff
    attestation of the identifiers checked, or else the e-mail code (``app.domain.identity``).
    """
    _check_creator(principal, body)
    now = rt.clock.now()
    received_at = body.received_at or now
    if received_at > now:
        raise InvalidInput("received_at cannot be in the future", field="received_at")
    horizon = rt.settings.received_at_horizon_days
    if received_at < now - timedelta(days=horizon):
        raise InvalidInput(
            f"received_at is more than {horizon} days ago: file the request with today's date "
            "and note when it arrived",
            field="received_at",
        )
    subject = body.subject.model_dump(mode="json", exclude_none=True)
    checked_token = None
    if body.id_token is not None:
        checked_token = await id_tokens.check(
            rt,
            session,
            raw_token=body.id_token,
            nonce=body.id_token_nonce,
            subject=subject,
            principal=principal,
        )
        if not checked_token.binding.bound and not subject.get("email"):
            failed_attempts.record(rt, session, principal, "verification.id_token_unbound")
            raise VerificationFailed(
                "the ID token proves none of the identifiers the request names, and there is "
                "no e-mail address to send a code to"
            )
        if checked_token.binding.bound:
            subject |= {kind.value: value for kind, value in checked_token.binding.adds.items()}
    attested = _staff_proof(subject, body.verification, now) if body.verification else None
    request, token = await _file(
        rt,
        session,
        principal=principal,
        kind=body.kind,
        channel=body.channel or Channel.web,
        language=body.language or rt.settings.default_language,
        received_at=received_at,
        subject=subject,
        details=body.details,
    )
    if checked_token is not None and checked_token.binding.bound:
        await id_tokens.remember(rt, session, checked_token.token, request.id)
        await _mark_verified(
            rt,
            session,
            request,
            principal,
            proof=checked_token.proof(now),
            detail=checked_token.audit_detail(),
            status_token=token,
        )
    elif body.verification is not None and attested is not None:
        SubjectVault(rt.cipher).add_note(request, "verification_note", body.verification.note)
        await _mark_verified(rt, session, request, principal, proof=attested, status_token=token)
    elif subject.get("email"):
        if checked_token is not None:  # a token that proves nothing of this subject
            await audit.append(
                session,
                at=now,
                actor=principal.actor,
                action="verification.id_token_unbound",
                request_id=request.id,
                detail=checked_token.audit_detail() | {"fallback": "email_code"},
            )
        await _send_code(rt, session, request, subject["email"], first=True)
    return Created(request=request, status_token=token)


def _staff_proof(subject: dict[str, Any], attestation: VerificationIn, now: datetime) -> Proof:
    """What a staff attestation proves: the identifiers checked, or all of them (blanket)."""
    try:
        kinds, blanket = identity.staff_checked(subject, attestation.checked)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="checked") from None
    return Proof(method=ProofMethod.staff, kinds=kinds, at=now, blanket=blanket)


async def create_follow_up(
    rt: Runtime,
    session: AsyncSession,
    *,
    kind: RequestKind,
    subject: dict[str, Any],
    details: dict[str, Any],
    language: str,
    reason: str,
    proven: frozenset[IdentifierKind],
) -> DsrRequest:
    """A request the service files itself (e.g. erasing what a hold kept once it ends).

    Identity was established by the request that led here, so it is verified at once, with
    exactly what that request proved (``proven``).
    """
    request, _token = await _file(
        rt,
        session,
        principal=SYSTEM,
        kind=kind,
        channel=Channel.system,
        language=language,
        received_at=rt.clock.now(),
        subject=subject,
        details=details,
    )
    proof = Proof(method=ProofMethod.inherited, kinds=proven, at=rt.clock.now())
    await _mark_verified(
        rt,
        session,
        request,
        SYSTEM,
        proof=proof,
        method=reason,  # why the service filed it (e.g. hold_ended): letters read it
        detail={"method": reason},
        notify=False,
    )
    return request


async def _file(
    rt: Runtime,
    session: AsyncSession,
    *,
    principal: Principal,
    kind: RequestKind,
    channel: Channel,
    language: str,
    received_at: datetime,
    subject: dict[str, Any],
    details: dict[str, Any],
) -> tuple[DsrRequest, str]:
    now = rt.clock.now()
    vault = SubjectVault(rt.cipher)
    due = deadlines.first_deadline(deadlines.receipt_date(received_at))
    token = secrets.token_urlsafe(24)
    request = DsrRequest(
        id=new_id("req"),
        kind=kind.value,
        status=RequestStatus.received.value,
        channel=channel.value,
        language=language,
        received_at=received_at,
        created_at=now,
        updated_at=now,
        target_due_date=due.target,
        legal_due_date=due.legal,
        effective_due_at=deadlines.end_of_day_utc(due.legal),
        next_alert_at=now,  # the deadline sweep works out its alert points
        subject_ciphertext="",
        verification_method="email" if subject.get("email") else "manual",
        verification_state="pending",
        status_token_hash=vault.token_hash(token),
        created_by=principal.actor,
    )
    vault.store_subject(request, subject)
    vault.store_details(request, details)
    session.add(request)
    await session.flush()  # the row first: what refers to it is written in later flushes
    await audit.append(
        session,
        at=now,
        actor=principal.actor,
        action="request.received",
        request_id=request.id,
        to_status=request.status,
        detail={"kind": request.kind, "channel": request.channel},
        new_stream=True,
    )
    await webhooks.emit(rt, session, "request.received", _event_data(request))
    return request, token


async def _mark_verified(
    rt: Runtime,
    session: AsyncSession,
    request: DsrRequest,
    principal: Principal,
    *,
    proof: Proof,
    method: str | None = None,
    detail: dict[str, Any] | None = None,
    notify: bool = True,
    status_token: str | None = None,
) -> None:
    """Verified: audit, announce, acknowledge (D12). ``status_token`` is known when the request
    is verified as it is filed; the acknowledgement then carries the status link, which a
    person whose request staff filed has no other way to get. Only to a proven address."""
    now = rt.clock.now()
    request.verification_method = method or _METHOD_NAMES.get(proof.method, proof.method.value)
    request.verification_state = "verified"
    request.verified_at = now
    request.identity = Identity.from_json(request.identity).with_proof(proof).as_json()
    audit_detail = {"method": proof.method.value, **(detail or {}), **proof_detail(proof)}
    await transition(rt, session, request, Action.verify, principal, detail=audit_detail)
    await webhooks.emit(rt, session, "request.verified", _event_data(request))
    vault = SubjectVault(rt.cipher)
    if notify:
        proven_kinds = Identity.from_json(request.identity).proven
        token = status_token if IdentifierKind.email in proven_kinds else None
        letter = letters.acknowledgement(
            request.language,
            request.id,
            request.legal_due_date,
            kind=request.kind,
            status_url=letterhead.status_url(rt, request.id, token) if token else None,
            controller=letterhead.controller(rt),
        )
        await letter_outbox.tell(rt, session, request, letter, kind="acknowledgement")
    if request.kind == RequestKind.objection.value and _objects_to_marketing(request, rt):
        # Art. 21(3): absolute for direct marketing; the person is never added back. Only
        # what the person proved goes on the list: a claimed identifier is nobody's wish.
        proven = vault.proven_subject(request)
        await suppression.add(rt, session, identifiers=proven, request_id=request.id)


_METHOD_NAMES = {
    ProofMethod.email_code: "email",
    ProofMethod.oidc: "oidc",
    ProofMethod.staff: "staff",
}


def proof_detail(proof: Proof) -> dict[str, Any]:
    """What an audit event records of a proof: kinds and how, never the values."""
    detail: dict[str, Any] = {"proven": sorted(k.value for k in proof.kinds)}
    if proof.blanket:
        detail["blanket"] = True
    return detail


def _new_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


async def _send_code(
    rt: Runtime, session: AsyncSession, request: DsrRequest, email: str, *, first: bool
) -> None:
    now = rt.clock.now()
    code = _new_code()
    ttl = timedelta(minutes=rt.settings.verification_code_minutes)
    challenge = await session.get(VerificationChallenge, request.id)
    if challenge is None:
        challenge = VerificationChallenge(
            request_id=request.id, code_hash="", sent_at=now, expires_at=now + ttl
        )
    elif not first:
        wait = challenge.sent_at + timedelta(seconds=rt.settings.verification_resend_seconds)
        if now < wait:
            raise TooManyAttempts("a code was sent recently", int((wait - now).total_seconds()) + 1)
        if challenge.sends >= rt.settings.verification_max_sends:
            # Each code brings fresh tries: without a cap, guessing would never end.
            raise TooManyAttempts("no more codes can be sent for this request; file a new one")
        challenge.sends += 1
        challenge.attempts = 0
    challenge.code_hash = await asyncio.to_thread(_hasher.hash, code)  # ~20 ms of CPU
    challenge.sent_at = now
    challenge.expires_at = now + ttl
    session.add(challenge)
    await session.flush()
    minutes = rt.settings.verification_code_minutes
    letter = letters.verification_code(
        request.language, code, minutes, controller=letterhead.controller(rt)
    )
    await letter_outbox.queue(rt, session, request, email, letter, kind="verification_code")
    await audit.append(
        session, at=now, actor=SYSTEM.actor, action="verification.code_sent", request_id=request.id
    )


async def resend_code(rt: Runtime, session: AsyncSession, request_id: str) -> DsrRequest:
    request = await get(session, request_id, for_update=True)
    email = SubjectVault(rt.cipher).subject(request).get("email")
    if request.status != RequestStatus.received.value or not email:
        raise InvalidTransition("this request is not waiting for an e-mail code")
    await _send_code(rt, session, request, email, first=False)
    return request


async def verify(
    rt: Runtime, session: AsyncSession, request_id: str, *, principal: Principal, body: CodeIn
) -> DsrRequest:
    """Confirm identity of a request waiting for it: the e-mail code or an ID token (form
    client), or a staff attestation (operator). Proving more later is ``prove_more``."""
    if principal.kind == "staff":
        require_staff_role(Action.verify, principal.roles)
    request = await get(session, request_id, for_update=True)
    if body.id_token is not None:
        next_status(RequestStatus(request.status), Action.verify)
        checked = await bound_token(rt, session, request, principal, body)
        await id_tokens.remember(rt, session, checked.token, request.id)
        await _mark_verified(
            rt,
            session,
            request,
            principal,
            proof=checked.proof(rt.clock.now()),
            detail=checked.audit_detail(),
        )
        await _drop_challenge(session, request.id)
        return request
    if body.method == "staff":
        proof = attestation(rt, request, principal, body)
        next_status(RequestStatus(request.status), Action.verify)
        SubjectVault(rt.cipher).add_note(request, "verification_note", body.note or "")
        await _mark_verified(rt, session, request, principal, proof=proof)
        return request
    if not body.code:
        raise InvalidInput(
            "send the code from the e-mail, an id_token, or method=staff with a note"
        )
    await _check_code(rt, session, request, body.code, principal)
    proof = Proof(
        method=ProofMethod.email_code, kinds=frozenset({IdentifierKind.email}), at=rt.clock.now()
    )
    await _mark_verified(rt, session, request, principal, proof=proof)
    return request


async def bound_token(
    rt: Runtime,
    session: AsyncSession,
    request: DsrRequest,
    principal: Principal,
    body: CodeIn,
    *,
    step_up: bool = False,
) -> id_tokens.CheckedToken:
    """The ID token in ``body``, checked against the request's subject. One that proves none
    of its identifiers is refused (audited), except in a step-up: the request is already
    bound to the person who proved its e-mail, so a token may add a national id the request
    did not name (never replace one: that is a conflict)."""
    assert body.id_token is not None
    vault = SubjectVault(rt.cipher)
    subject = vault.subject(request)
    checked = await id_tokens.check(
        rt,
        session,
        raw_token=body.id_token,
        nonce=body.id_token_nonce,
        subject=subject,
        principal=principal,
        request_id=request.id,
    )
    adds_only = step_up and bool(checked.binding.adds) and not checked.binding.conflicts
    if not (checked.binding.bound or adds_only):
        failed_attempts.record(
            rt, session, principal, "verification.id_token_unbound", request_id=request.id
        )
        raise VerificationFailed(
            "the ID token proves none of the identifiers the request names: log in as the "
            "person the request is about"
        )
    if checked.binding.adds:
        added = {kind.value: value for kind, value in checked.binding.adds.items()}
        vault.store_subject(request, subject | added)
    return checked


def attestation(rt: Runtime, request: DsrRequest, principal: Principal, body: CodeIn) -> Proof:
    """A staff attestation in ``body``: who may give it, and what it proves."""
    if principal.kind != "staff":
        raise NotPermitted("only staff can attest a person's identity")
    require_staff_role(Action.verify, principal.roles)
    if not body.note:
        raise InvalidInput("a staff attestation needs a note", field="note")
    subject = SubjectVault(rt.cipher).subject(request)
    attested = VerificationIn(method="staff", note=body.note, checked=body.checked)
    return _staff_proof(subject, attested, rt.clock.now())


async def _drop_challenge(session: AsyncSession, request_id: str) -> None:
    challenge = await session.get(VerificationChallenge, request_id)
    if challenge is not None:
        await session.delete(challenge)


async def _check_code(
    rt: Runtime, session: AsyncSession, request: DsrRequest, code: str, principal: Principal
) -> None:
    next_status(RequestStatus(request.status), Action.verify)
    challenge = await session.get(VerificationChallenge, request.id)
    if challenge is None:
        raise InvalidTransition("no code was sent for this request")
    if challenge.attempts >= rt.settings.verification_max_attempts:
        raise TooManyAttempts("too many wrong codes; ask for a new one")
    now = rt.clock.now()
    if now > challenge.expires_at:
        raise VerificationFailed("the code has expired; ask for a new one")
    try:
        await asyncio.to_thread(_hasher.verify, challenge.code_hash, code)  # off the loop
    except VerifyMismatchError:
        failed_attempts.record(
            rt,
            session,
            principal,
            "verification.failed",
            request_id=challenge.request_id,
            count_code_try=True,
        )
        raise VerificationFailed("the code is not correct") from None
    await session.delete(challenge)


async def extend(
    rt: Runtime, session: AsyncSession, request_id: str, *, principal: Principal, body: ExtendIn
) -> DsrRequest:
    """Art. 12(3): up to two further months, with reasons, decided within the first month."""
    require_staff_role(Action.extend, principal.roles)
    request = await get(session, request_id, for_update=True)
    next_status(RequestStatus(request.status), Action.extend)
    now = rt.clock.now()
    refused = deadlines.extension_refused(
        now, request.legal_due_date, request.extension_months, body.months
    )
    if refused:
        raise InvalidTransition(refused)
    total = request.extension_months + body.months
    due = deadlines.extended_deadline(deadlines.receipt_date(request.received_at), total)
    request.extension_months = total
    request.extended_target_date = due.target
    request.extended_legal_date = due.legal
    request.extended_at = now
    request.effective_due_at = deadlines.end_of_day_utc(due.legal)
    request.next_alert_at = now  # the alert points moved with the deadline
    request.updated_at = now
    vault = SubjectVault(rt.cipher)
    vault.add_note(request, "extension_reason", body.reason)
    session.add(request)
    await audit.append(
        session,
        at=now,
        actor=principal.actor,
        action="request.extended",
        request_id=request.id,
        detail={"months": body.months, "total_months": total, "legal_due": due.legal.isoformat()},
    )
    await webhooks.emit(rt, session, "request.extended", _event_data(request))
    letter = letters.extension(
        request.language,
        request.id,
        total,
        body.reason,
        due.legal,
        controller=letterhead.controller(rt),
    )
    await letter_outbox.tell(rt, session, request, letter, kind="extension")
    return request


async def refuse(
    rt: Runtime, session: AsyncSession, request_id: str, *, principal: Principal, body: RefuseIn
) -> DsrRequest:
    """Art. 12(4): a written refusal with reasons and the right to complain and go to court."""
    require_staff_role(Action.refuse, principal.roles)
    request = await get(session, request_id, for_update=True)
    check_refusal(RequestKind(request.kind), body.reason_code, body.evidence)
    vault = SubjectVault(rt.cipher)
    request.refusal_code = body.reason_code.value
    vault.add_note(request, "refusal_explanation", body.explanation)
    if body.evidence:
        vault.add_note(request, "refusal_evidence", body.evidence)
    await transition(
        rt, session, request, Action.refuse, principal, detail={"reason_code": body.reason_code}
    )
    await webhooks.emit(
        rt, session, "request.refused", _event_data(request) | {"reason_code": body.reason_code}
    )
    letter = letters.refusal(
        request.language,
        request.id,
        body.reason_code,
        body.explanation,
        kind=request.kind,
        controller=letterhead.controller(rt),
    )
    await letter_outbox.tell(rt, session, request, letter, kind="refusal")
    return request


def check_refusal(kind: RequestKind, code: RefusalReason, evidence: str | None) -> None:
    """A reason code refuses only the kinds its law covers (e.g. pol. § 16 not an erasure),
    whole or in part, and some need the evidence checked."""
    if not refusals.refusable(code, kind):
        allowed = ", ".join(refusals.kinds_for(code))
        raise InvalidInput(
            f"reason {code.value!r} cannot refuse a request of kind "
            f"{kind.value!r} (it may refuse: {allowed})",
            field="reason_code",
        )
    if refusals.REASONS[code].needs_evidence and not evidence:
        raise InvalidInput(f"reason {code.value!r} needs the evidence checked", field="evidence")


async def withdraw(
    rt: Runtime,
    session: AsyncSession,
    request_id: str,
    *,
    principal: Principal | None,
    token: str | None,
    reason: str | None,
) -> tuple[DsrRequest, Principal]:
    """Stop processing at the person's wish (their status token) or by staff; returns the
    request and who withdrew it."""
    request = await get(session, request_id, for_update=True)
    vault = SubjectVault(rt.cipher)
    if principal is None and token is None:
        raise Unauthenticated("send the request's status token or a staff bearer token")
    if principal is None or principal.kind != "staff":
        if token is None or not vault.token_matches(request, token):
            raise NotPermitted("withdrawing needs the request's status token or a staff role")
        principal = Principal(kind="subject", id=request.id)
    else:
        require_staff_role(Action.withdraw, principal.roles)
    if reason:
        vault.add_note(request, "withdraw_reason", reason)
    await transition(rt, session, request, Action.withdraw, principal)
    return request, principal


def _objects_to_marketing(request: DsrRequest, rt: Runtime) -> bool:
    """An objection covers direct marketing unless it names only other processing (21(1))."""
    return objections.covers_marketing(
        objections.purposes_of(SubjectVault(rt.cipher).details(request))
    )


def _event_data(request: DsrRequest) -> dict[str, Any]:
    """Webhook payloads name the request, never the person (api.md)."""
    return {
        "request_id": request.id,
        "kind": request.kind,
        "status": request.status,
        "due_at": request.effective_due_at.isoformat().replace("+00:00", "Z"),
    }
