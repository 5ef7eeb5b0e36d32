"""``/console/``: log-in and log-out. The queue, the request page, the actions
and the overviews add their own routers beside this one."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import RuntimeDep
from app.domain.requests import Role
from app.security import Principal
from app.web.console.auth import end_session, safe_next, start_session
from app.web.forms import FormDep, PagesDep, text
from app.web.render import Pages

router = APIRouter(prefix="/console", include_in_schema=False)
log = logging.getLogger("innsyn.console")
LOCAL_WARNING = (
    "console: a development log-in signed with the local key; production staff log in "
    "through the company's identity provider"
)


def render_login(
    pages: Pages, request: Request, next: str, *, failure: str = "", status_code: int = 200
) -> HTMLResponse:
    """The log-in page; ``failure`` names the words saying why the last try failed."""
    return pages.render(
        request,
        "console/login.html",
        area="console",
        lang=pages.language(request),
        status_code=status_code,
        next=safe_next(next),
        local=pages.settings.local_login_allowed,
        issuer=pages.settings.staff_issuer,
        roles=[r.value for r in Role],
        failure=failure,
    )


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request, pages: PagesDep, next: Annotated[str, Query(max_length=500)] = "/console/"
) -> HTMLResponse:
    return render_login(pages, request, next)


@router.post("/login/local")
async def local_login(request: Request, pages: PagesDep, form: FormDep) -> Response:
    """Development only: log in with the chosen roles, as ``innsyn token`` would."""
    if not pages.settings.local_login_allowed:
        return pages.redirect("/console/login")
    chosen = [r for r in form.getlist("role") if isinstance(r, str) and r in Role.__members__]
    if not chosen:
        return pages.redirect("/console/login")
    principal = Principal(kind="staff", id="dev-staff", roles=frozenset(Role(r) for r in chosen))
    log.warning(LOCAL_WARNING)
    response = pages.redirect(safe_next(text(form, "next")))
    start_session(pages, request, response, principal)
    return response


@router.post("/logout")
async def logout(request: Request, rt: RuntimeDep, pages: PagesDep, _: FormDep) -> Response:
    response = pages.redirect("/console/login")
    await end_session(rt, pages, request, response)
    return response
