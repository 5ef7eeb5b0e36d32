"""``/personvern/``: the person's pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.web.forms import PagesDep

router = APIRouter(prefix="/personvern", include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
async def start(request: Request, pages: PagesDep) -> HTMLResponse:
    lang = pages.language(request)
    return pages.render(request, "centre/start.html", area="centre", lang=lang, framable=True)
