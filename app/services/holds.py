"""Legal holds: placed by staff, found by connectors, released, expired or ended — and what then.

A hold ends when staff release it, when its date passes (``expiring``), or when the
connector no longer finds the condition it rested on (``end_lapsed``, see
:mod:`app.services.hold_recheck`). When a hold ends, the data it kept back from a verified
erasure (objection, consent withdrawal) is erased by a follow-up erasure request the service
files itself, limited to exactly that connector and those categories, unless another active
hold still covers them. A hold that kept nothing back from such a request simply ends
(audited, webhook): nobody asked for an erasure. A hold is never silently forgotten.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.connectors.protocol import HoldFinding
from app.db.models import DsrRequest, LegalHold, Task
from app.db.models.tasks import TaskAction
from app.domain import deadlines
from app.domain import holds as hold_rules
from app.domain.erasure_plan import Hold
from app.domain.errors import InvalidInput, NotFound
from app.domain.holds import HoldStatus
from app.domain.identity import IdentifierKind, Identity, present_kinds
from app.domain.kinds import ERASING_KINDS
from app.domain.requests import RequestKind
from app.ids import new_id
from app.runtime import Runtime
from app.schemas.holds import HoldCreate, HoldView
from app.security import SYSTEM, Principal
from app.services import audit, webhooks
from app.services.requests import create_follow_up
from app.services.subjects import SubjectVault
from app.store.locks import skip_locked

ALL_CONNECTORS = "*"


def _identity_hashes(rt: Runtime, subject: dict[str, Any]) -> tuple[str | None, str | None]:
    vault = SubjectVault(rt.cipher)
    email = subject.get("email")
    national_id = subject.get("national_id")
    return (
        vault.email_hash(email) if email else None,
        vault.national_id_hash(national_id) if national_id else None,
    )


def _new_hold(
    rt: Runtime,
    *,
    subject: dict[str, Any],
    basis_code: str,
    connector: str,
    categories: list[str],
    source: str,
    placed_by: str,
    request_id: str | None,
    until: date | None,
    condition: str | None,
    reference: str | None,
) -> LegalHold:
    email_hash, national_id_hash = _identity_hashes(rt, subject)
    hold = LegalHold(
        id=new_id("hold"),
        basis_code=basis_code,
        connector=connector,
        categories=sorted(set(categories)),
        source=source,
        until=until,
        condition=condition,
        reference=reference,
        request_id=request_id,
        email_hash=email_hash,
        national_id_hash=national_id_hash,
        subject_ciphertext="",
        placed_at=rt.clock.now(),
        placed_by=placed_by,
    )
    hold.subject_ciphertext = rt.cipher.seal(subject, purpose=f"hold-subject:{hold.id}")
    return hold


async def _announce(
    rt: Runtime, session: AsyncSession, hold: LegalHold, action: str, actor: str
) -> None:
    detail = {
        "hold_id": hold.id,
        "basis_code": hold.basis_code,
        "connector": hold.connector,
        "categories": hold.categories,
        "until": hold.until.isoformat() if hold.until else None,
    }
    await audit.append(
        session,
        at=rt.clock.now(),
        actor=actor,
        action=action,
        request_id=hold.request_id,
        detail=detail,
    )
    event = "hold.placed" if action == "hold.placed" else "hold.released"
    await webhooks.emit(rt, session, event, detail | {"request_id": hold.request_id})


async def place(
    rt: Runtime, session: AsyncSession, *, principal: Principal, body: HoldCreate
) -> LegalHold:
    """Staff place a hold with a reason (approver role)."""
    basis = rt.hold_catalogue.get(body.basis_code)
    if basis is None:
        raise InvalidInput(f"unknown hold basis {body.basis_code!r}", field="basis_code")
    if (
        body.connector != ALL_CONNECTORS
        and rt.connectors.instances
        and (rt.connectors.get(body.connector) is None)
    ):
        raise InvalidInput(f"no connector named {body.connector!r}", field="connector")
    _check_declared(rt, body.connector, body.categories)
    subject: dict[str, Any] = {}
    if body.request_id is not None:
        request = await session.get(DsrRequest, body.request_id)
        if request is None:
            raise NotFound(f"no request with id {body.request_id}")
        subject = SubjectVault(rt.cipher).proven_subject(request)
    if body.subject is not None:
        subject |= body.subject.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    until = body.until or (basis.until(body.event_date) if body.event_date else None)
    if until is None and body.condition is None:
        raise InvalidInput("give the hold an end: until, event_date or a condition")
    today = deadlines.receipt_date(rt.clock.now())
    if until is not None and until < today:
        field = "until" if body.until is not None else "event_date"
        raise InvalidInput(
            f"the hold would end on {until.isoformat()}, which has passed: a hold keeps data "
            "from now on",
            field=field,
        )
    hold = _new_hold(
        rt,
        subject=subject,
        basis_code=basis.code,
        connector=body.connector,
        categories=body.categories,
        source="staff",
        placed_by=principal.actor,
        request_id=body.request_id,
        until=until,
        condition=body.condition,
        reference=body.reference,
    )
    hold.reason_ciphertext = rt.cipher.seal(body.reason, purpose=f"hold-reason:{hold.id}")
    session.add(hold)
    await session.flush()
    await _announce(rt, session, hold, "hold.placed", principal.actor)
    return hold


def _check_declared(rt: Runtime, connector: str, categories: list[str]) -> None:
    """A hold keeps categories a system has: one it does not declare would keep nothing."""
    if not rt.connectors.instances:
        return  # nothing configured to check against (tests, a bare install)
    instances = (
        rt.connectors.active() if connector == ALL_CONNECTORS else [rt.connectors.get(connector)]
    )
    declared = {c.name for i in instances if i is not None for c in i.connector.categories()}
    unknown = sorted(set(categories) - declared)
    if unknown:
        where = "any connector" if connector == ALL_CONNECTORS else f"the connector {connector!r}"
        raise InvalidInput(
            f"{', '.join(repr(c) for c in unknown)} is not a category of {where}; "
            f"declared: {', '.join(sorted(declared)) or 'none'}",
            field="categories",
        )


async def record_findings(
    rt: Runtime,
    session: AsyncSession,
    *,
    request: DsrRequest,
    connector: str,
    findings: Iterable[HoldFinding],
) -> list[LegalHold]:
    """Holds a connector found (an unpaid invoice…), stored once per basis and reference."""
    subject = SubjectVault(rt.cipher).proven_subject(request)
    email_hash, national_id_hash = _identity_hashes(rt, subject)
    existing = await active_rows(session, email_hash, national_id_hash, request.id)
    known = {(h.connector, h.basis_code, h.reference, tuple(h.categories)) for h in existing}
    stored = []
    for finding in findings:
        key = (connector, finding.basis_code, finding.reference, tuple(sorted(finding.categories)))
        if key in known:
            continue
        known.add(key)
        hold = _new_hold(
            rt,
            subject=_with_system_keys(subject, finding),
            basis_code=finding.basis_code,
            connector=connector,
            categories=finding.categories,
            source="connector",
            placed_by=f"connector:{connector}",
            request_id=request.id,
            until=finding.until,
            condition=finding.condition,
            reference=finding.reference,
        )
        hold.fields = dict(finding.fields) or None
        session.add(hold)
        await session.flush()
        await _announce(rt, session, hold, "hold.placed", SYSTEM.actor)
        stored.append(hold)
    return stored


def _with_system_keys(subject: dict[str, Any], finding: HoldFinding) -> dict[str, Any]:
    """The person as the hold keeps them, with the system's own key when it gave one: the
    follow-up erasure finds the kept rows by it after their e-mail and phone are erased."""
    if not finding.customer_ids:
        return subject
    keys = {**(subject.get("customer_ids") or {}), **finding.customer_ids}
    return {**subject, "customer_ids": keys}


async def active_rows(
    session: AsyncSession, email_hash: str | None, national_id_hash: str | None, request_id: str
) -> list[LegalHold]:
    matches = [col(LegalHold.request_id) == request_id]
    if email_hash:
        matches.append(col(LegalHold.email_hash) == email_hash)
    if national_id_hash:
        matches.append(col(LegalHold.national_id_hash) == national_id_hash)
    rows = await session.exec(
        select(LegalHold).where(LegalHold.status == HoldStatus.active, or_(*matches))
    )
    return list(rows)


def proven_hashes(request: DsrRequest) -> tuple[str | None, str | None]:
    """The request's lookup hashes of identifiers the person proved: a claimed national id
    must not pull another person's holds (and what they reveal) into this request."""
    proven = Identity.from_json(request.identity).proven
    return (
        request.email_hash if IdentifierKind.email in proven else None,
        request.national_id_hash if IdentifierKind.national_id in proven else None,
    )


async def holds_for(session: AsyncSession, request: DsrRequest, connector: str) -> list[Hold]:
    """Active holds on this person in this connector, as the erasure plan takes them."""
    email_hash, national_id_hash = proven_hashes(request)
    rows = await active_rows(session, email_hash, national_id_hash, request.id)
    return [
        Hold(
            basis_code=r.basis_code,
            categories=tuple(r.categories),
            until=r.until,
            condition=r.condition,
            reference=r.reference,
            source=r.source,
            fields=r.fields or {},
        )
        for r in rows
        if r.connector in (connector, ALL_CONNECTORS)
    ]


def view(rt: Runtime, hold: LegalHold) -> HoldView:
    """What staff see of a hold: no personal data, the law it rests on."""
    basis = rt.hold_catalogue.get(hold.basis_code)
    return HoldView(
        **hold.model_dump(include=set(HoldView.model_fields) & set(LegalHold.model_fields)),
        law=basis.law if basis else None,
        gdpr_exemption=basis.gdpr_exemption if basis else None,
    )


async def for_request(rt: Runtime, session: AsyncSession, request: DsrRequest) -> list[HoldView]:
    """Every hold on the request's person (active or ended), newest first: found by the
    identifiers the person proved, so a claimed one never shows another person's holds."""
    email_hash, national_id_hash = proven_hashes(request)
    matches = [col(LegalHold.request_id) == request.id]
    if email_hash:
        matches.append(col(LegalHold.email_hash) == email_hash)
    if national_id_hash:
        matches.append(col(LegalHold.national_id_hash) == national_id_hash)
    rows = await session.exec(
        select(LegalHold).where(or_(*matches)).order_by(col(LegalHold.id).desc())
    )
    return [view(rt, r) for r in rows]


async def get(session: AsyncSession, hold_id: str) -> LegalHold:
    hold = await session.get(LegalHold, hold_id, with_for_update=True)
    if hold is None:
        raise NotFound(f"no hold with id {hold_id}")
    return hold


async def release(
    rt: Runtime, session: AsyncSession, hold_id: str, *, principal: Principal, reason: str
) -> tuple[LegalHold, DsrRequest | None]:
    """End a hold by hand (the invoice was paid…); what it kept is then erased by the
    follow-up erasure returned (to be planned), if anything is left to erase."""
    hold = await get(session, hold_id)
    hold.reason_ciphertext = rt.cipher.seal(
        {"release_reason": reason}, purpose=f"hold-release:{hold.id}"
    )
    return hold, await _end(rt, session, hold, status=HoldStatus.released, actor=principal.actor)


async def expiring(rt: Runtime, session: AsyncSession) -> list[LegalHold]:
    """Dated holds whose end has passed (claimed: another replica skips them).

    A hold with a condition ends at its date too: its date is the latest end the law gives
    (a claim's limitation, a bookkeeping period), the condition only ends it sooner.
    """
    today = deadlines.receipt_date(rt.clock.now())
    query = select(LegalHold).where(
        LegalHold.status == HoldStatus.active,
        col(LegalHold.until).is_not(None),
        col(LegalHold.until) < today,
    )
    return list(await session.exec(skip_locked(query, rt.db)))


async def expire(rt: Runtime, session: AsyncSession, hold: LegalHold) -> DsrRequest | None:
    """The hold's date has passed: it ends; returns the follow-up erasure, if any."""
    return await _end(rt, session, hold, status=HoldStatus.expired, actor=SYSTEM.actor)


async def end_lapsed(
    rt: Runtime, session: AsyncSession, hold: LegalHold, *, actor: str
) -> DsrRequest | None:
    """The connector no longer finds what the hold rested on (the invoice is paid): the hold
    ends as ``ended`` and what it kept is erased, as after a release."""
    return await _end(rt, session, hold, status=HoldStatus.ended, actor=actor)


def subject_of(rt: Runtime, hold: LegalHold) -> dict[str, Any]:
    """The person the hold is about, as it was when the hold was placed (decrypted)."""
    subject: dict[str, Any] = rt.cipher.open(
        hold.subject_ciphertext, purpose=f"hold-subject:{hold.id}"
    )
    return subject


async def _end(
    rt: Runtime, session: AsyncSession, hold: LegalHold, *, status: HoldStatus, actor: str
) -> DsrRequest | None:
    hold.status = hold_rules.end(hold.status, status).value
    hold.ended_at = rt.clock.now()
    hold.ended_by = actor
    session.add(hold)
    await session.flush()
    await _announce(rt, session, hold, f"hold.{status.value}", actor)
    return await _follow_up(rt, session, hold)


async def _follow_up(rt: Runtime, session: AsyncSession, hold: LegalHold) -> DsrRequest | None:
    """File an erasure of what the hold kept back from a verified erasing request (erasure,
    objection, consent withdrawal), unless other holds still keep it. It is verified (the
    request that led here was) and left for the flows to plan. A hold that kept nothing back
    from such a request (staff placed it on a person who asked for nothing, or it was found
    while answering an access request) simply ends: nobody asked for anything to be erased."""
    blocked = await _blocked(session, hold)
    if not blocked:
        return None
    subject = subject_of(rt, hold)
    email_hash, national_id_hash = _identity_hashes(rt, subject)
    still = await active_rows(session, email_hash, national_id_hash, hold.request_id or "")
    covered = {
        c for h in still if h.connector in (hold.connector, ALL_CONNECTORS) for c in h.categories
    }
    kept = {c for _request, categories in blocked.values() for c in categories}
    categories = [c for c in hold.categories if c in kept and c not in covered]
    if not categories:
        return None
    # Erased before: asked again (idempotent) so a row kept only for the held data can go.
    for connector, (request, _kept) in sorted(blocked.items()):
        erased = await _erased_before(session, request.id, connector)
        categories += [c for c in erased if c not in categories and c not in covered]
    latest = max((request for request, _kept in blocked.values()), key=lambda r: r.created_at)
    follow_up = await create_follow_up(
        rt,
        session,
        kind=RequestKind.erasure,
        subject=subject,
        proven=present_kinds(subject),  # only proven identifiers are kept with a hold
        details={
            "follow_up": {
                "hold_id": hold.id,
                "connector": hold.connector,
                "categories": categories,
                "blocked_request_id": latest.id,
            }
        },
        language=latest.language,
        reason="hold_ended",
    )
    hold.follow_up_request_id = follow_up.id
    session.add(hold)
    return follow_up


async def _blocked(
    session: AsyncSession, hold: LegalHold
) -> dict[str, tuple[DsrRequest, list[str]]]:
    """Per connector: the latest verified erasing request of this person that the hold could
    have kept data back from (its erase was planned while the hold was in force) and did:
    a category of the hold recorded as held, or erased around the fields the hold keeps."""
    people = [col(DsrRequest.id) == hold.request_id] if hold.request_id else []
    if hold.email_hash:
        people.append(col(DsrRequest.email_hash) == hold.email_hash)
    if hold.national_id_hash:
        people.append(col(DsrRequest.national_id_hash) == hold.national_id_hash)
    if not people:
        return {}
    query = (
        select(Task, DsrRequest)
        .join(DsrRequest, col(DsrRequest.id) == col(Task.request_id))
        .where(
            Task.action == TaskAction.erase.value,
            col(DsrRequest.kind).in_([k.value for k in ERASING_KINDS]),
            col(DsrRequest.status).not_in(_ABANDONED),
            col(Task.created_at) >= hold.placed_at,
            or_(*people),
        )
        .order_by(col(DsrRequest.created_at))
    )
    if hold.connector != ALL_CONNECTORS:
        query = query.where(Task.connector == hold.connector)
    blocked: dict[str, tuple[DsrRequest, list[str]]] = {}
    for task, request in await session.exec(query):
        params = task.params or {}
        held = {e.get("category") for e in params.get("held", []) if isinstance(e, dict)}
        by_field = {c for c in params.get("categories", []) if (hold.fields or {}).get(c)}
        kept = [c for c in hold.categories if c in held or c in by_field]
        if kept:
            blocked[task.connector] = (request, kept)
    return blocked


async def _erased_before(session: AsyncSession, request_id: str, connector: str) -> list[str]:
    """The categories the blocked request already erased in that system."""
    rows = await session.exec(
        select(Task).where(
            Task.request_id == request_id,
            Task.connector == connector,
            Task.action == TaskAction.erase.value,
        )
    )
    return [c for task in rows for c in (task.params or {}).get("categories", [])]


# Requests stopped before their erasure was owed: no follow-up on their behalf.
_ABANDONED = ("withdrawn", "refused", "closed_unverified")
