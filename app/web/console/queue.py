"""``/console/``: the queue of open requests, the nearest legal deadline first, with filters,
a search by e-mail or national id (audited, as the API's list does) and pages."""

from __future__ import annotations

from typing import Annotated, TypeVar
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from app.deps import RuntimeDep, SessionDep
from app.domain.errors import InvalidInput
from app.domain.requests import Channel, RequestKind, RequestStatus
from app.services import queue, request_views
from app.web.console.auth import StaffPage
from app.web.console.view import render
from app.web.forms import PagesDep

router = APIRouter(prefix="/console", include_in_schema=False)
PAGE_SIZE = 25


E = TypeVar("E", RequestStatus, RequestKind, Channel)


def _choice(kind: type[E], value: str) -> E | None:
    """A filter from the query: a known value, else none (a stale link is not an error)."""
    return kind(value) if value in kind.__members__ else None


@router.get("/", response_class=HTMLResponse)
async def queue_page(
    request: Request,
    pages: PagesDep,
    rt: RuntimeDep,
    session: SessionDep,
    staff: StaffPage,
    status: Annotated[str, Query(max_length=40)] = "",
    kind: Annotated[str, Query(max_length=40)] = "",
    channel: Annotated[str, Query(max_length=40)] = "",
    action: Annotated[str, Query(max_length=5)] = "",
    q: Annotated[str, Query(max_length=320)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    flt = queue.QueueFilter(
        status=_choice(RequestStatus, status),
        kind=_choice(RequestKind, kind),
        channel=_choice(Channel, channel),
        needs_action=action == "yes",
        q=q.strip() or None,
    )
    found, bad_search = None, False
    try:
        found = await queue.page(rt, session, flt, number=page, size=PAGE_SIZE)
    except InvalidInput:
        bad_search = True
    if found is not None and flt.q:
        summaries = [item.summary for item in found.items]
        await request_views.record_search(rt, session, staff, flt.q, summaries)
    chosen = {"status": status, "kind": kind, "channel": channel, "action": action, "q": q}
    kept = {k: v for k, v in chosen.items() if v}
    return render(
        pages,
        request,
        "console/queue.html",
        staff,
        found=found,
        bad_search=bad_search,
        chosen=chosen,
        statuses=list(RequestStatus),
        kinds=list(RequestKind),
        channels=list(Channel),
        page_link=lambda n: "/console/?" + urlencode(kept | {"page": n}),
    )
