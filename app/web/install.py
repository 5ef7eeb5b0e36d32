"""Adds the pages to the app: the style sheets, the privacy centre, the console, and the
page a forged form gets."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from app.domain.requests import Role
from app.web.centre.filing import Shown
from app.web.centre.routes import router as centre_router
from app.web.console.actions import router as actions_router
from app.web.console.auth import LoginNeeded, RoleMissing, login_url
from app.web.console.oidc import router as oidc_router
from app.web.console.overviews import router as overviews_router
from app.web.console.queue import router as queue_router
from app.web.console.request_page import router as request_router
from app.web.console.routes import router as console_router
from app.web.csrf import CsrfRefused
from app.web.forms import FormRefused
from app.web.render import get_pages
from app.web.words import words

CENTRE = "/personvern/"
CONSOLE = "/console/"


ExceptionHandler = Callable[[Request, Exception], Awaitable[Response]]


def install(app: FastAPI) -> None:
    @app.get("/static/brand.css", include_in_schema=False)
    async def brand_css(request: Request) -> Response:
        """The company's colour, as CSS: pages never carry inline styles (CSP)."""
        colour = get_pages(request).brand.colour  # validated #rrggbb
        return Response(
            f":root {{ --brand: {colour}; }}\n",
            media_type="text/css",
            headers={"Cache-Control": "public, max-age=300"},
        )

    app.mount("/static", StaticFiles(packages=[("app.web", "static")]), name="static")

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse(CENTRE, status_code=307)

    app.add_exception_handler(
        FormRefused, _refused(400, "form_refused_title", "form_refused_detail")
    )
    app.add_exception_handler(CsrfRefused, _refused(403, "forged_title", "forged_detail"))

    @app.exception_handler(Shown)
    async def shown(_: Request, exc: Shown) -> Response:
        return exc.response

    @app.exception_handler(LoginNeeded)
    async def log_in_first(request: Request, exc: LoginNeeded) -> Response:
        return get_pages(request).redirect(login_url(exc.back, request.query_params.get("lang")))

    @app.exception_handler(RoleMissing)
    async def role_missing(request: Request, exc: RoleMissing) -> Response:
        pages = get_pages(request)
        lang = pages.language(request)
        said = words("console", lang)
        names = ", ".join(said[f"role_{r.value}"] for r in sorted(exc.roles | {Role.admin}))
        return pages.render(
            request,
            "problem.html",
            area="console",
            lang=lang,
            status_code=403,
            title=said["role_missing_title"],
            detail=said["role_missing_detail"].format(roles=names),
            back="/console/",
        )

    app.include_router(centre_router)
    app.include_router(console_router)
    app.include_router(overviews_router)
    app.include_router(queue_router)
    app.include_router(request_router)
    app.include_router(actions_router)
    app.include_router(oidc_router)


def _refused(status_code: int, title: str, detail: str) -> ExceptionHandler:
    """A refused form (malformed, or without its CSRF token) as a page, not a JSON problem:
    back to the page it came from, in the centre's own frame when it came from there."""

    async def refused(request: Request, _: Exception) -> Response:
        return get_pages(request).problem(
            request,
            area="common",
            status_code=status_code,
            title=title,
            detail=detail,
            back=request.url.path,
            framable=request.url.path.startswith(CENTRE),
        )

    return refused
