"""Filing from the form, shared by the form's own post and the return from ID-porten: the
same schema and the same flow as ``POST /v1/requests``, the same rate limit, and the form
shown again (values kept, errors next to the fields) when something is wrong."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from app.deps import limit
from app.domain import centre_form
from app.domain.centre_form import FormValues
from app.ratelimit import subject_target
from app.runtime import Runtime
from app.schemas.requests import RequestCreate, Subject
from app.security import Principal
from app.services import flows
from app.web.centre import access
from app.web.language import Lang
from app.web.render import Pages
from app.web.words import words

# Who files from the privacy centre: a form client, as a company's own form with its API key.
CENTRE = Principal(kind="form", id="privacy-centre")
AREA = "centre"


class Shown(Exception):
    """A page that answers a refusal (a wrong code, a rejected ID token). Raised rather than
    returned, so the request's unit of work rolls back first, and what a refusal must leave
    behind (the try counted, the audit event) is written as the API writes it."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def form_page(
    pages: Pages,
    request: Request,
    lang: Lang,
    values: FormValues,
    errors: dict[str, str] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    said = words(AREA, lang)
    shown = {name: said[key] for name, key in (errors or {}).items()}
    rows = list(values.changes) + [("", "")] * (centre_form.CHANGE_ROWS - len(values.changes))
    return pages.render(
        request,
        "centre/form.html",
        area=AREA,
        lang=lang,
        status_code=status_code,
        framable=True,
        values=values,
        rows=rows[: centre_form.CHANGE_ROWS],
        errors=shown,
        rights=[r.value for r in centre_form.RIGHTS],
        purposes=centre_form.PURPOSES,
        idporten=bool(pages.settings.oidc_issuer),
    )


def problem(
    pages: Pages,
    request: Request,
    lang: Lang,
    status_code: int,
    title: str,
    detail: str,
    back: str | None = "/personvern/",
) -> HTMLResponse:
    """A page that says in words what went wrong; ``title`` and ``detail`` are word keys."""
    return pages.problem(
        request,
        lang=lang,
        area=AREA,
        status_code=status_code,
        title=title,
        detail=detail,
        back=back,
        framable=True,
    )


def too_many(pages: Pages, request: Request, lang: Lang) -> HTMLResponse:
    return problem(pages, request, lang, 429, "too_many_title", "too_many_detail", None)


def body_of(values: FormValues, lang: Lang) -> tuple[RequestCreate | None, dict[str, str]]:
    """The API's request body for the form, or the fields to fix (word keys)."""
    checked = centre_form.check(values, lang)
    errors = dict(checked.errors)
    try:
        Subject.model_validate(checked.body["subject"])
    except ValidationError as exc:
        for error in exc.errors():
            name = centre_form.schema_field(("subject", *error["loc"]))
            errors.setdefault(name, "error_request" if name == "right" else f"error_{name}")
    if errors:
        return None, errors
    try:
        return RequestCreate.model_validate(checked.body), {}
    except ValidationError:
        return None, {"right": "error_request"}


async def file(
    rt: Runtime,
    session: AsyncSession,
    pages: Pages,
    request: Request,
    body: RequestCreate,
    *,
    then: str,
) -> Response:
    """File ``body`` like the API does, remember the request in this browser, and go on to
    ``then`` (with ``{id}`` filled in)."""
    await limit(
        rt,
        request,
        None,
        "create",
        target=subject_target(body.subject.email, body.subject.national_id),
        visitor=None,
    )
    created = await flows.file_request(rt, session, principal=CENTRE, body=body)
    response = pages.redirect(then.format(id=created.request.id))
    access.remember(pages, request, response, created.request.id, created.status_token)
    return response
