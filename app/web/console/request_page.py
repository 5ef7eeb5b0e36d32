"""``/console/requests/{id}``: one request as staff see it through the API (the same staff
view, read and logged the same way), with the forms the staff member's roles allow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from app.deps import RuntimeDep, SessionDep
from app.domain.errors import NotFound
from app.domain.refusals import REASONS
from app.domain.requests import RequestKind, Role
from app.routers import answer_formats
from app.runtime import Runtime
from app.schemas.requests import RequestView
from app.services import audit, audit_trail, reports, request_views, requests
from app.web.console.actions import ACTIONS, FINDING_ROWS, REDACTION_ROWS
from app.web.console.auth import StaffPage
from app.web.console.view import render
from app.web.forms import PagesDep
from app.web.render import Pages
from app.web.words import words

router = APIRouter(prefix="/console", include_in_schema=False)
AUDITORS = frozenset({Role.auditor})


async def _audit(session: AsyncSession, request_id: str) -> dict[str, Any]:
    """The request's audit trail and both checks, as ``GET /v1/audit`` gives an auditor."""
    events = await audit.events_for(session, stream=request_id)
    chain = await audit.check_stream_of(session, request_id, events)
    trail = await audit_trail.check_trail(session, None)
    return {"events": events, "chain": chain, "trail": trail.check}


def _actor_words(said: dict[str, str]) -> Callable[[str], str]:
    """Who did it, in words: a staff member by their id, else the service, the person or
    the website form."""

    def actor(value: str) -> str:
        kind, _, who = value.partition(":")
        if kind == "staff":
            return said["actor_staff"].format(who=who)
        return said.get(f"actor_{kind}", said["actor_other"])

    return actor


def _choices(rt: Runtime, view: RequestView, lang: str) -> dict[str, Any]:
    """What the forms offer: reasons that fit the kind, hold bases, systems and categories."""
    kind = RequestKind(view.kind)
    return {
        "reasons": [(code.value, r.text(lang)) for code, r in REASONS.items() if kind in r.kinds],
        "bases": [(b.code, b.explain(lang)) for b in rt.hold_catalogue.all()],
        "categories": {
            i.name: [c.name for c in i.connector.categories()] for i in rt.connectors.active()
        },
        # A finding's kind of data, offered in words; the form still posts the category's name.
        "category_choices": {
            i.name: [(c.name, c.text("description", lang)) for c in i.connector.categories()]
            for i in rt.connectors.active()
        },
        "reason_words": {code.value: r.text(lang) for code, r in REASONS.items()},
        "basis_words": {b.code: b.explain(lang) for b in rt.hold_catalogue.all()},
        "finding_rows": range(1, FINDING_ROWS + 1),
        "redaction_rows": range(1, REDACTION_ROWS + 1),
    }


def _missing(pages: Pages, request: Request) -> HTMLResponse:
    return pages.problem(
        request,
        area="console",
        status_code=404,
        title="not_found_title",
        detail="not_found_detail",
        back="/console/",
    )


@router.get("/requests/{request_id}", response_class=HTMLResponse)
async def request_page(
    request_id: str,
    request: Request,
    pages: PagesDep,
    rt: RuntimeDep,
    session: SessionDep,
    staff: StaffPage,
    done: Annotated[str, Query(max_length=40)] = "",
    failed: Annotated[str, Query(max_length=40)] = "",
    why: Annotated[str, Query(max_length=40)] = "",
) -> HTMLResponse:
    try:
        found = await requests.get(session, request_id)
    except NotFound:
        return _missing(pages, request)
    view = await request_views.staff_view(rt, session, found)
    await request_views.record_read(rt, session, found, staff, "request")
    trail = await _audit(session, request_id) if staff.has_any(AUDITORS) else None
    return render(
        pages,
        request,
        "console/request.html",
        staff,
        r=view,
        trail=trail,
        actions=ACTIONS,
        done=done if done in ACTIONS else "",
        failed=failed if failed in ACTIONS else "",
        why=why,
        date_of=date.fromisoformat,
        actor_words=_actor_words(words("console", pages.language(request))),
        **_choices(rt, view, pages.language(request)),
    )


@router.get("/requests/{request_id}/answer", response_class=Response)
async def answer(
    request_id: str, rt: RuntimeDep, session: SessionDep, staff: StaffPage
) -> Response:
    """The answer as the person gets it (the API's report, read and logged the same way)."""
    found = await requests.get(session, request_id)
    report = await reports.build(rt, session, found)
    await request_views.record_read(rt, session, found, staff, "report")
    return answer_formats.respond(rt, report, "html")
