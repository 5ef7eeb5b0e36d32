"""``/v1/requests``: file, list, view, verify, extend, refuse and withdraw requests."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response, status

from app.deps import (
    Approver,
    CallerDep,
    Operator,
    OptionalPrincipal,
    RuntimeDep,
    SessionDep,
    StaffReader,
    TargetLimit,
    rate_limited,
    rate_limited_by_body,
)
from app.domain.requests import RequestKind, RequestStatus
from app.ratelimit import subject_target
from app.routers import answer_formats
from app.routers.responses import AUTH, problems
from app.schemas.answers import AnswerLinkIssued, AnswerLinkView
from app.schemas.requests import (
    CodeIn,
    ExtendIn,
    LiftRestrictionIn,
    ObjectionDecisionIn,
    RefuseIn,
    RefusePartIn,
    RequestCreate,
    RequestCreated,
    RequestPage,
    RequestSummary,
    RequestView,
    SubjectStatus,
    WithdrawIn,
)
from app.schemas.review import ReleaseIn
from app.schemas.times import Rfc3339
from app.services import (
    answer_links,
    flows,
    partial_refusals,
    reports,
    request_access,
    request_views,
    requests,
    review,
)

router = APIRouter(prefix="/v1/requests", tags=["requests"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="File a request",
    responses=problems(400, *AUTH, 413, 422, 429),
)
async def create_request(
    body: RequestCreate,
    rt: RuntimeDep,
    session: SessionDep,
    caller: CallerDep,
    response: Response,
    limit: Annotated[TargetLimit, Depends(rate_limited_by_body("create"))],
) -> RequestCreated:
    """File a request from a website form (API key) or on a person's behalf (staff)."""
    await limit(subject_target(body.subject.email, body.subject.national_id))
    created = await flows.file_request(rt, session, principal=caller, body=body)
    r = created.request
    response.headers["Location"] = f"/v1/requests/{r.id}"
    summary = request_views.summary(r, rt.clock.now())
    return RequestCreated(
        id=r.id,
        kind=summary.kind,
        status=summary.status,
        received_at=r.received_at,
        due_at=summary.due_at,
        status_token=created.status_token,
        verification=summary.verification,
    )


@router.get(
    "",
    summary="List requests",
    response_model=RequestPage,
    responses=problems(*AUTH, 422),
)
async def list_requests(
    rt: RuntimeDep,
    session: SessionDep,
    staff: StaffReader,
    status_: Annotated[RequestStatus | None, Query(alias="status")] = None,
    kind: RequestKind | None = None,
    due_before: Rfc3339 | None = None,
    overdue: bool | None = None,
    updated_since: Rfc3339 | None = None,
    q: Annotated[
        str | None,
        Query(max_length=320, description="subject e-mail or national id (audited, as a hash)"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Requests, newest first; dashboards poll with ``updated_since``."""
    flt = request_views.ListFilter(
        status=status_,
        kind=kind,
        due_before=due_before,
        overdue=overdue,
        updated_since=updated_since,
        q=q,
    )
    items, next_cursor = await request_views.list_page(rt, session, flt, limit=limit, cursor=cursor)
    if q:
        await request_views.record_search(rt, session, staff, q, items)
    # Built here from validated parts, so written as it is (not validated again on the way out).
    page = RequestPage(items=items, next_cursor=next_cursor)
    return Response(page.model_dump_json(by_alias=True).encode(), media_type="application/json")


@router.get(
    "/{request_id}",
    summary="View a request",
    response_model=RequestView,
    responses={304: {"description": "Not modified"}, **problems(*AUTH, 404)},
)
async def get_request(
    request_id: str,
    rt: RuntimeDep,
    staff: StaffReader,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The full view: timeline, due dates, tasks, holds and outcome. Sends an ETag."""
    # The ETag is read before the view is built: a change in between makes the view newer
    # than its tag (one needless 200 later), never a 304 for a view that changed. A 304 is
    # that one read: no unit of work is opened for it (a staff poll is mostly answered
    # before routing, by ``app.middleware_not_modified``; this is the same answer).
    etag = await request_views.view_etag(rt, request_id)
    if if_none_match and request_views.etag_matches(etag, if_none_match):
        return Response(status_code=304, headers={"ETag": etag})
    async with rt.db.session() as session:  # committed (the read recorded) before the answer
        request = await requests.get(session, request_id)
        body = (await request_views.staff_view(rt, session, request)).model_dump_json().encode()
        await request_views.record_read(rt, session, request, staff, "request")
    return Response(body, media_type="application/json", headers={"ETag": etag})


@router.post(
    "/{request_id}/verification",
    summary="Verify identity",
    responses=problems(*AUTH, 404, 409, 422, 429),
    dependencies=[Depends(rate_limited("verify"))],
)
async def verify_request(
    request_id: str, body: CodeIn, rt: RuntimeDep, session: SessionDep, caller: CallerDep
) -> RequestSummary:
    """Verify the request (e-mail code or ID token from the form; attestation by an
    operator), or prove more once it is verified: an ID token, or staff confirming
    identifiers the person only claimed. Systems that waited for the proof then run."""
    request = await flows.verify(rt, session, request_id, principal=caller, body=body)
    return request_views.summary(request, rt.clock.now())


@router.post(
    "/{request_id}/verification/resend",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a new code",
    responses=problems(*AUTH, 404, 409, 422, 429),
    dependencies=[Depends(rate_limited("resend"))],
)
async def resend_code(
    request_id: str,
    rt: RuntimeDep,
    session: SessionDep,
    caller: OptionalPrincipal,
    token: Annotated[str | None, Query(max_length=200, description="the status token")] = None,
) -> RequestSummary:
    """Send a fresh one-time code to the e-mail on the request (throttled, capped per request).
    Only the form key that filed the request, the person with the status token, or staff."""
    await request_access.require_filer_or_token(session, request_id, caller, token)
    request = await requests.resend_code(rt, session, request_id)
    return request_views.summary(request, rt.clock.now())


@router.get(
    "/{request_id}/status",
    summary="Status for the person",
    responses=problems(403, 404, 422, 429),
    dependencies=[Depends(rate_limited("status"))],
)
async def subject_status(
    request_id: str,
    token: Annotated[str, Query(min_length=8, max_length=200)],
    rt: RuntimeDep,
    session: SessionDep,
) -> SubjectStatus:
    """Minimal status the person sees with their ``status_token``."""
    return await request_views.subject_status(rt, session, request_id, token)


@router.post(
    "/{request_id}/extend", summary="Extend the deadline", responses=problems(*AUTH, 404, 409, 422)
)
async def extend_request(
    request_id: str, body: ExtendIn, rt: RuntimeDep, session: SessionDep, staff: Approver
) -> RequestSummary:
    """Extend by one or two months, before the first deadline; the person is told why."""
    request = await requests.extend(rt, session, request_id, principal=staff, body=body)
    return request_views.summary(request, rt.clock.now())


@router.post(
    "/{request_id}/refuse", summary="Refuse the request", responses=problems(*AUTH, 404, 409, 422)
)
async def refuse_request(
    request_id: str, body: RefuseIn, rt: RuntimeDep, session: SessionDep, staff: Approver
) -> RequestSummary:
    """Refuse with a reason code and explanation; the person gets a written refusal."""
    request = await flows.refuse(rt, session, request_id, principal=staff, body=body)
    return request_views.summary(request, rt.clock.now())


@router.post(
    "/{request_id}/withdraw",
    summary="Withdraw the request",
    responses=problems(*AUTH, 404, 409, 422, 429),
    dependencies=[Depends(rate_limited("withdraw"))],
)
async def withdraw_request(
    request_id: str,
    rt: RuntimeDep,
    session: SessionDep,
    caller: OptionalPrincipal,
    token: Annotated[str | None, Query(max_length=200)] = None,
    body: WithdrawIn | None = None,
) -> RequestSummary:
    """Stop processing: by the person (``token``) or by staff."""
    request = await flows.withdraw(
        rt,
        session,
        request_id,
        principal=caller,
        token=token or (body.token if body else None),
        reason=body.reason if body else None,
    )
    return request_views.summary(request, rt.clock.now())


@router.get(
    "/{request_id}/report",
    summary="The answer: data and facts",
    responses={**answer_formats.CONTENT, **problems(401, 403, 404, 409, 422, 429)},
    response_class=Response,
    dependencies=[Depends(rate_limited("report"))],
)
async def get_report(
    request_id: str,
    rt: RuntimeDep,
    session: SessionDep,
    caller: OptionalPrincipal,
    format_: Annotated[answer_formats.Format, Query(alias="format")] = "json",
    token: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The access or portability answer, for staff or for the person (``token``).

    ``json`` is the typed answer, ``html`` a page, ``pdf`` the page to keep, ``portable`` the
    data the person gave (Art. 20), ``zip`` (streamed) a CSV file per category and every stored
    file (attachments, scans)."""
    request, reader = await request_views.report_reader(session, request_id, caller, token)
    report = await reports.build(rt, session, request)
    await request_views.record_read(rt, session, request, reader, "report")
    return answer_formats.respond(rt, report, format_)


@router.post(
    "/{request_id}/answer-links",
    status_code=status.HTTP_201_CREATED,
    summary="Make a new download link for the answer",
    responses=problems(*AUTH, 404, 409),
)
async def issue_answer_link(
    request_id: str, rt: RuntimeDep, session: SessionDep, staff: Operator
) -> AnswerLinkIssued:
    """A fresh link, shown once here and on the person's status page (after a revocation)."""
    request = await requests.get(session, request_id)
    url = await answer_links.issue(rt, session, request, actor=staff.actor)
    return AnswerLinkIssued(url=url, links=await answer_links.views(rt, session, request))


@router.post(
    "/{request_id}/answer-links/revoke",
    summary="Revoke the answer's download links",
    responses=problems(*AUTH, 404),
)
async def revoke_answer_links(
    request_id: str, rt: RuntimeDep, session: SessionDep, staff: Operator
) -> list[AnswerLinkView]:
    """Every working link stops at once; the status page shows none until a new one is made."""
    request = await requests.get(session, request_id)
    return await answer_links.revoke(rt, session, request, staff)


@router.post(
    "/{request_id}/objection-decision",
    summary="Decide an objection (Art. 21(1))",
    responses=problems(*AUTH, 404, 409, 422),
)
async def decide_objection(
    request_id: str, body: ObjectionDecisionIn, rt: RuntimeDep, session: SessionDep, staff: Approver
) -> RequestSummary:
    """Record whether processing stops or continues on compelling grounds; the person is told."""
    request = await flows.decide_objection(
        rt,
        session,
        request_id,
        principal=staff,
        upheld=body.decision == "upheld",
        grounds=body.grounds,
        categories=body.categories,
    )
    return request_views.summary(request, rt.clock.now())


@router.post(
    "/{request_id}/lift-restriction",
    summary="Lift a restriction (Art. 18(3))",
    responses=problems(*AUTH, 404, 409, 422),
)
async def lift_restriction(
    request_id: str, body: LiftRestrictionIn, rt: RuntimeDep, session: SessionDep, staff: Approver
) -> RequestSummary:
    """Tell the person, then lift the restriction on the date given (a follow-up request)."""
    request = await flows.lift_restriction(
        rt,
        session,
        request_id,
        principal=staff,
        reason=body.reason,
        effective_at=body.effective_at,
        informed_otherwise=body.informed_otherwise,
    )
    return request_views.summary(request, rt.clock.now())


@router.post(
    "/{request_id}/release",
    summary="Release a reviewed answer",
    responses=problems(*AUTH, 404, 409, 422),
)
async def release_answer(
    request_id: str, body: ReleaseIn, rt: RuntimeDep, session: SessionDep, staff: Approver
) -> RequestSummary:
    """With ``INNSYN_REVIEW_ANSWERS``: release an answer that waits in ``awaiting_review``,
    withholding records or fields that would reveal other people's data (Art. 15(4)); the
    person is told then, and the report shows each as withheld with its reason."""
    request = await review.release(rt, session, request_id, principal=staff, body=body)
    return request_views.summary(request, rt.clock.now())


@router.post(
    "/{request_id}/refuse-part",
    summary="Refuse part of a request",
    responses=problems(*AUTH, 404, 409, 422),
)
async def refuse_part(
    request_id: str, body: RefusePartIn, rt: RuntimeDep, session: SessionDep, staff: Approver
) -> RequestSummary:
    """D9: leave out one system's category (access, portability, erasing kinds), one system
    (restriction) or one change (rectification), with a reason code that fits the kind and an
    explanation; the rest goes on, and the answer and the letter state the part refused."""
    request = await partial_refusals.refuse_part(
        rt, session, request_id, principal=staff, body=body
    )
    return request_views.summary(request, rt.clock.now())
