"""Reading a posted form: CSRF checked first, every value a bounded string."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException

from app.web.csrf import FIELD, CsrfRefused
from app.web.render import Pages, get_pages

PagesDep = Annotated[Pages, Depends(get_pages)]

# A form with more fields or longer values than any page has is not one of ours.
MAX_FIELDS = 200
MAX_FILES = 10


class FormRefused(Exception):
    """The body is no form a page sends: too many fields or files, or not parseable."""


async def checked_form(request: Request, pages: PagesDep) -> FormData:
    """The posted form, after its CSRF token is checked (raises ``CsrfRefused``; a body no
    page could have sent raises ``FormRefused``, answered with a page in words)."""
    try:
        form = await request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS)
    except HTTPException as exc:
        if exc.status_code != 400:
            raise
        raise FormRefused from exc
    try:
        pages.csrf.check(request, form.get(FIELD))
    except CsrfRefused:
        await form.close()  # an uploaded file's temporary copy
        raise
    return form


FormDep = Annotated[FormData, Depends(checked_form)]


def text(form: FormData, name: str, *, limit: int = 500) -> str:
    """A text field, stripped; a file or a missing field is the empty string."""
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def texts(form: FormData, name: str, *, limit: int = 500) -> list[str]:
    return [v.strip()[:limit] for v in form.getlist(name) if isinstance(v, str) and v.strip()]
