"""Read side of requests: the staff view, the dashboard list, the person's status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, bindparam, func, text
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import AnswerLink, AuditEvent, DsrRequest, Task
from app.db.models.audit import TIMELINE_ONLY
from app.db.models.tasks import TaskStatus
from app.domain import deadlines
from app.domain.errors import (
    InvalidInput,
    InvalidTransition,
    NotFound,
    NotPermitted,
    Unauthenticated,
)
from app.domain.identifiers import InvalidIdentifier, normalise_national_id
from app.domain.identity import Identity, present_kinds
from app.domain.requests import TERMINAL, RequestKind, RequestStatus, allowed_actions
from app.runtime import Runtime
from app.schemas.requests import (
    ExtensionView,
    IdentityNeeded,
    IdentityView,
    LetterView,
    ProofView,
    RequestSummary,
    RequestView,
    SubjectStatus,
    TimelineEntry,
    VerificationView,
)
from app.security import Principal
from app.services import answer_links, audit, holds, letter_outbox, recipient_notices, tasks
from app.services.requests import get
from app.services.subjects import SubjectVault
from app.store.pages import Page, newest_first, prefixed_b64

READ_PREFIX = "read."


def summary(request: DsrRequest | Row[Any], now: datetime) -> RequestSummary:
    """What a list shows of a request (from the request, or from its summary columns)."""
    extended = request.extended_legal_date
    return RequestSummary(
        id=request.id,
        kind=RequestKind(request.kind),
        status=RequestStatus(request.status),
        channel=request.channel,
        language=request.language,
        received_at=request.received_at,
        due_at=deadlines.end_of_day_utc(request.legal_due_date),
        extended_due_at=deadlines.end_of_day_utc(extended) if extended else None,
        effective_due_at=request.effective_due_at,
        target_due_date=request.extended_target_date or request.target_due_date,
        legal_due_date=extended or request.legal_due_date,
        overdue=deadlines.overdue(
            RequestStatus(request.status) not in TERMINAL, request.effective_due_at, now
        ),
        verification=VerificationView(
            method=request.verification_method,
            state=request.verification_state,
            verified_at=request.verified_at,
        ),
        created_at=request.created_at,
        updated_at=request.updated_at,
        completed_at=request.completed_at,
    )


async def staff_view(rt: Runtime, session: AsyncSession, request: DsrRequest) -> RequestView:
    vault = SubjectVault(rt.cipher)
    notes = vault.notes(request)
    events = await _timeline_events(session, request.id)
    sections: dict[str, Any] = await tasks.task_section(session, request)
    sections |= await recipient_notices.for_request(session, request)
    sections["holds"] = [
        h.model_dump(mode="json") for h in await holds.for_request(rt, session, request)
    ]
    refusal = None
    if request.refusal_code:
        refusal = {
            "reason_code": request.refusal_code,
            "explanation": notes.get("refusal_explanation"),
        }
    extension = None
    if request.extension_months:
        extension = ExtensionView(
            months=request.extension_months,
            reason=notes.get("extension_reason"),
            extended_at=request.extended_at,
        )
    subject = vault.subject(request)
    return RequestView(
        **summary(request, rt.clock.now()).model_dump(),
        subject=subject,
        identity=await identity_view(session, request, subject),
        letters=[
            LetterView.model_validate(x)
            for x in await letter_outbox.for_request(session, request.id)
        ],
        details=vault.details(request),
        extension=extension,
        refusal=refusal,
        timeline=[_entry(e) for e in events],
        outcome=request.outcome,
        answer_links=await answer_links.views(rt, session, request),
        allowed_actions=[a.value for a in allowed_actions(RequestStatus(request.status))],
        **sections,
    )


# Built once: each call binds only the id and the time (the compiled form is cached).
_ETAG_READ = select(
    DsrRequest.version,
    DsrRequest.status,
    DsrRequest.effective_due_at,
    select(func.count())
    .where(
        AnswerLink.request_id == bindparam("request_id"),
        col(AnswerLink.revoked_at).is_(None),
        col(AnswerLink.expires_at) <= bindparam("now"),
    )
    .scalar_subquery(),
).where(DsrRequest.id == bindparam("request_id"))


async def view_etag(rt: Runtime, request_id: str) -> str:
    """The staff view's ETag from one read by primary key: the view version, and what of the
    view changes with time alone (overdue; answer links that expired). One statement on a
    pooled connection, outside any unit of work: a poll answered 304 opens no session."""
    now = rt.clock.now()
    row = await rt.db.read(_ETAG_READ, {"request_id": request_id, "now": now})
    if row is None:
        raise NotFound(f"no request with id {request_id}")
    version, status, due_at, lapsed = tuple(row)
    late = deadlines.overdue(RequestStatus(status) not in TERMINAL, due_at, now)
    return f'"{request_id}.v{version}.{lapsed}{".late" if late else ""}"'


def etag_matches(etag: str, if_none_match: str) -> bool:
    """Whether an ``If-None-Match`` list names ``etag`` (weak or strong: a view is the same
    view either way)."""
    return etag in (t.strip().removeprefix("W/") for t in if_none_match.split(","))


async def _timeline_events(session: AsyncSession, request_id: str) -> list[AuditEvent]:
    """The request's events without the reads of it: the database drops those, so a view
    read a thousand times costs no more to build than one read once. What this unit of work
    recorded is chained first, so it shows."""
    await audit.chain(session)
    rows = await session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.stream == request_id,
            text(TIMELINE_ONLY),  # verbatim: the partial index ix_audit_events_timeline
        )
        .order_by(col(AuditEvent.seq))
    )
    return list(rows)


async def waiting_systems(session: AsyncSession, request: DsrRequest) -> list[str]:
    """Systems whose tasks wait for a stronger proof of identity."""
    rows = await session.exec(
        select(Task.connector)
        .where(Task.request_id == request.id, Task.status == TaskStatus.needs_stronger_identity)
        .distinct()
    )
    return sorted(rows)


async def identity_view(
    session: AsyncSession, request: DsrRequest, subject: dict[str, Any]
) -> IdentityView:
    """Proven and claimed identifiers, for the staff's identity review."""
    known = Identity.from_json(request.identity)
    return IdentityView(
        proven=sorted(k.value for k in known.proven & present_kinds(subject)),
        claimed=sorted(k.value for k in known.claimed(subject)),
        proofs=[ProofView.model_validate(p.as_json()) for p in known.proofs],
        waiting_systems=await waiting_systems(session, request),
    )


def _entry(event: AuditEvent) -> TimelineEntry:
    return TimelineEntry(
        at=event.at,
        actor=event.actor,
        action=event.action,
        from_status=event.from_status,
        to_status=event.to_status,
        detail=event.detail,
    )


async def record_read(
    rt: Runtime, session: AsyncSession, request: DsrRequest, principal: Principal, part: str
) -> None:
    """The access log seed 002 promises: who saw which person's data, and when."""
    await audit.append(
        session,
        at=rt.clock.now(),
        actor=principal.actor,
        action=f"{READ_PREFIX}{part}",
        request_id=request.id,
    )


@dataclass(frozen=True)
class ListFilter:
    status: RequestStatus | None = None
    kind: RequestKind | None = None
    due_before: datetime | None = None
    overdue: bool | None = None
    updated_since: datetime | None = None
    q: str | None = None


CURSOR = prefixed_b64("req_")
"""The requests list's cursor: the last id seen, in URL-safe base64."""


# What ``summary`` shows: a dashboard polling the list reads no sealed subject, identity or
# outcome (JSON decoded per row) for the rows it only lists.
_SUMMARY_COLUMNS: tuple[Any, ...] = (
    DsrRequest.id,
    DsrRequest.kind,
    DsrRequest.status,
    DsrRequest.channel,
    DsrRequest.language,
    DsrRequest.received_at,
    DsrRequest.created_at,
    DsrRequest.updated_at,
    DsrRequest.verified_at,
    DsrRequest.completed_at,
    DsrRequest.target_due_date,
    DsrRequest.legal_due_date,
    DsrRequest.extended_target_date,
    DsrRequest.extended_legal_date,
    DsrRequest.effective_due_at,
    DsrRequest.verification_method,
    DsrRequest.verification_state,
)


# The columns as rows, not objects: a dashboard polls the list, and a row costs a fraction of
# a loaded object (no identity map, no instance state).
_SUMMARY_ROWS = sa_select(*_SUMMARY_COLUMNS)


async def list_page(
    rt: Runtime, session: AsyncSession, flt: ListFilter, *, limit: int, cursor: str | None
) -> tuple[list[RequestSummary], str | None]:
    """Newest first; the cursor is the last id seen (ids sort by creation time)."""
    now = rt.clock.now()
    query: Any = _SUMMARY_ROWS
    if flt.status is not None:
        query = query.where(DsrRequest.status == flt.status.value)
    if flt.kind is not None:
        query = query.where(DsrRequest.kind == flt.kind.value)
    if flt.due_before is not None:
        query = query.where(DsrRequest.effective_due_at < flt.due_before)
    if flt.overdue is not None:
        open_states = [s.value for s in RequestStatus if s not in TERMINAL]
        is_overdue = col(DsrRequest.status).in_(open_states) & (DsrRequest.effective_due_at < now)
        query = query.where(is_overdue if flt.overdue else ~is_overdue)
    if flt.updated_since is not None:
        query = query.where(DsrRequest.updated_at > flt.updated_since)
    if flt.q:
        query = query.where(_identifier_match(rt, flt.q))
    page: Page[Row[Any]] = await newest_first(
        session, query, DsrRequest.id, limit=limit, cursor=cursor, spelling=CURSOR
    )
    return [summary(r, now) for r in page.items], page.next_cursor


def _identifier_match(rt: Runtime, q: str) -> Any:
    kind, digest = identifier_hash(rt, q)
    column = DsrRequest.email_hash if kind == "email" else DsrRequest.national_id_hash
    return column == digest


def identifier_hash(rt: Runtime, q: str) -> tuple[str, str]:
    """The kind of identifier searched for and its keyed lookup hash (never the value)."""
    vault = SubjectVault(rt.cipher)
    q = q.strip()
    if "@" in q:
        return "email", vault.email_hash(q)
    try:
        return "national_id", vault.national_id_hash(normalise_national_id(q))
    except InvalidIdentifier:
        raise InvalidInput("q must be an e-mail address or a national id", field="q") from None


async def record_search(
    rt: Runtime,
    session: AsyncSession,
    principal: Principal,
    q: str,
    found: list[RequestSummary],
) -> None:
    """A search by identifier reads whose requests exist: audited on the service's stream,
    with the term as its keyed lookup hash (the same one the requests carry, so an auditor
    holding the key can tell whom it was about) and the request ids it returned."""
    kind, digest = identifier_hash(rt, q)
    await audit.append(
        session,
        at=rt.clock.now(),
        actor=principal.actor,
        action=f"{READ_PREFIX}search",
        detail={"kind": kind, "term_hash": digest, "request_ids": [r.id for r in found]},
    )


async def subject_status(
    rt: Runtime, session: AsyncSession, request_id: str, token: str
) -> SubjectStatus:
    """What the person may see with their status token: no personal data, no internals."""
    request = await get(session, request_id)
    if not SubjectVault.token_matches(request, token):
        raise NotPermitted("the status token does not match this request")
    view = summary(request, rt.clock.now())
    download = await answer_links.current_url(rt, session, request)
    waiting = await waiting_systems(session, request) if request.status not in _CLOSED else []
    return SubjectStatus(
        id=request.id,
        kind=view.kind,
        status=view.status,
        due_at=view.due_at,
        extended_due_at=view.extended_due_at,
        completed_at=request.completed_at,
        download_url=download,
        identity_needed=_identity_needed(request, waiting) if waiting else None,
    )


_CLOSED = {s.value for s in TERMINAL}
_HOW = {
    "nb": "Noen systemer kan vi bare søke i når du har bekreftet fødselsnummeret ditt. Logg inn "
    "med ID-porten på personvernsiden der du sendte forespørselen, eller kontakt oss.",
    "en": "Some systems may only be searched once you have confirmed your national identity "
    "number. Log in with the identity provider on the privacy page where you made the "
    "request, or contact us.",
}


def _identity_needed(request: DsrRequest, systems: list[str]) -> IdentityNeeded:
    return IdentityNeeded(
        systems=systems,
        how=_HOW.get(request.language, _HOW["nb"]),
        verification_url=f"/v1/requests/{request.id}/verification",
    )


async def report_reader(
    session: AsyncSession,
    request_id: str,
    principal: Principal | None,
    token: str | None,
) -> tuple[DsrRequest, Principal]:
    """Who may read the answer: any staff role, or the person with the status token once the
    request is completed."""
    request = await get(session, request_id)
    if principal is not None and principal.kind == "staff" and principal.roles:
        return request, principal
    if token is None:
        if principal is None:
            raise Unauthenticated("send the status token or a staff bearer token")
        raise NotPermitted("the answer is for staff or for the person with the status token")
    if not SubjectVault.token_matches(request, token):
        raise NotPermitted("the status token does not match this request")
    if request.status != RequestStatus.completed.value:
        raise InvalidTransition("the answer is not ready yet")
    return request, Principal(kind="subject", id=request.id)
