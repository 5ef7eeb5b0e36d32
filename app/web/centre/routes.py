"""``/personvern/``: the person's pages. Thin: each calls the use case the API calls, with the
status token this browser holds (``access``), and renders the answer in plain words."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from babel.dates import format_date
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from app.deps import RuntimeDep, SessionDep, limit
from app.domain import letter_words
from app.domain.centre_form import PURPOSES, FormValues, preselect
from app.domain.errors import (
    DomainError,
    Gone,
    InvalidTransition,
    NotFound,
    NotPermitted,
    TooManyAttempts,
    VerificationFailed,
)
from app.runtime import Runtime
from app.schemas.requests import CodeIn
from app.services import answer_links, flows, requests, subject_views
from app.services.subjects import SubjectVault
from app.web.centre import access, idporten
from app.web.centre.filing import (
    AREA,
    CENTRE,
    Shown,
    body_of,
    file,
    form_page,
    problem,
    too_many,
)
from app.web.forms import FormDep, PagesDep, text, texts
from app.web.language import Lang
from app.web.render import Pages
from app.web.words import words

router = APIRouter(prefix="/personvern", include_in_schema=False)
OSLO = ZoneInfo("Europe/Oslo")
RequestId = Annotated[str, Path(min_length=8, max_length=64, pattern=r"^req_[A-Za-z0-9_-]+$")]
LinkToken = Annotated[str, Path(min_length=16, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")]


async def _held(
    request: Request, session: SessionDep, pages: PagesDep, request_id: RequestId
) -> str:
    """The request id in the address, once this browser is shown to hold its status token;
    otherwise the page says the request is not this browser's."""
    if not await access.holds(pages, request, session, request_id):
        raise Shown(_not_yours(pages, request, pages.language(request)))
    return request_id


HeldRequest = Annotated[str, Depends(_held)]


def long_date(moment: datetime | date, lang: Lang) -> str:
    """23. desember 2026 / 23 December 2026, on the Norwegian calendar day."""
    day = moment.astimezone(OSLO).date() if isinstance(moment, datetime) else moment
    return format_date(day, format="long", locale="nb_NO" if lang == "nb" else "en_GB")


def _status_url(request_id: str) -> str:
    return f"/personvern/requests/{request_id}"


def _code_url(request_id: str) -> str:
    return f"/personvern/requests/{request_id}/code"


@router.get("/", response_class=HTMLResponse)
async def start(
    request: Request,
    pages: PagesDep,
    right: Annotated[str | None, Query(max_length=40)] = None,
) -> HTMLResponse:
    """The request form; ``?right=erasure`` chooses the right (the answer links here)."""
    return form_page(pages, request, pages.language(request), FormValues(right=preselect(right)))


@router.post("/", response_class=HTMLResponse)
async def send(
    request: Request, rt: RuntimeDep, session: SessionDep, pages: PagesDep, form: FormDep
) -> Response:
    lang = pages.language(request)
    values = FormValues(
        right=text(form, "right", limit=40),
        email=text(form, "email", limit=320),
        name=text(form, "name", limit=250),
        phone=text(form, "phone", limit=40),
        national_id=text(form, "national_id", limit=40),
        changes=tuple(
            (text(form, f"change_what_{i}", limit=200), text(form, f"change_value_{i}"))
            for i in range(1, 4)
            if text(form, f"change_what_{i}") or text(form, f"change_value_{i}")
        ),
        purposes=tuple(p for p in texts(form, "purpose", limit=40) if p in PURPOSES),
    )
    body, errors = body_of(values, lang)
    if body is None:
        return form_page(pages, request, lang, values, errors, status_code=422)
    try:
        if text(form, "confirm") == "idporten" and pages.settings.oidc_issuer:
            response = pages.redirect("/")
            try:
                url = await idporten.start(
                    rt, pages, request, response, lang=lang, form=values.as_dict()
                )
            except idporten.LoginFailed as failed:
                errors = {"right": failed.reason}
                raise Shown(
                    form_page(pages, request, lang, values, errors, status_code=422)
                ) from None
            response.headers["location"] = url
            return response
        return await file(rt, session, pages, request, body, then=_code_url("{id}"))
    except TooManyAttempts:
        raise Shown(too_many(pages, request, lang)) from None


@router.get("/callback", response_class=HTMLResponse)
async def callback(
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
    pages: PagesDep,
    state: Annotated[str, Query(max_length=200)] = "",
    code: Annotated[str, Query(max_length=2000)] = "",
) -> Response:
    """The way back from the identity provider: the code for an ID token, then the request
    is filed with it (its nonce checked by the filing, as the API does)."""
    login = idporten.pending(rt, pages, request)
    lang: Lang = "en" if login is not None and login.lang == "en" else pages.language(request)
    if login is None:
        expired = {"right": "login_expired"}
        return form_page(pages, request, lang, FormValues(), expired, status_code=400)
    if isinstance(login.form.get(STEP_UP), str):
        return await _step_up_back(rt, session, pages, request, login, state=state, code=code)
    values = FormValues.from_dict(login.form)
    response: Response
    try:
        if not code:
            raise idporten.LoginFailed("login_expired")
        id_token = await idporten.finish(rt, login, state=state, code=code)
        body, _ = body_of(values, lang)
        if body is None:
            raise idporten.LoginFailed
        body = body.model_copy(update={"id_token": id_token, "id_token_nonce": login.nonce})
        response = await file(rt, session, pages, request, body, then=_status_url("{id}"))
    except idporten.LoginFailed as failed:
        errors = {"right": failed.reason}
        response = form_page(pages, request, lang, values, errors, status_code=400)
    except VerificationFailed as refused:
        reason = "login_mismatch" if refused.extensions.get("conflicting") else "login_failed"
        response = form_page(pages, request, lang, values, {"right": reason}, status_code=400)
    except TooManyAttempts:
        response = too_many(pages, request, lang)
    else:
        idporten.forget(pages, response)
        return response
    idporten.forget(pages, response)
    raise Shown(response) from None


# In a pending log-in's form: the request an ID-porten log-in from its status page confirms.
STEP_UP = "step_up"
# What the status page says after that log-in (``?confirmed=``): word keys.
CONFIRMED = ("confirmed", "confirm_failed", "confirm_mismatch", "confirm_expired")


@router.post("/requests/{request_id}/idporten", response_class=HTMLResponse)
async def confirm_with_idporten(
    request: Request,
    rt: RuntimeDep,
    pages: PagesDep,
    _: FormDep,
    request_id: HeldRequest,
) -> Response:
    """From the status page: log in with ID-porten to prove the national identity number a
    system waits for (the API's step-up), then back to the status page."""
    lang = pages.language(request)
    if not pages.settings.oidc_issuer:
        return _not_yours(pages, request, lang)
    response = pages.redirect(_status_url(request_id))
    try:
        url = await idporten.start(
            rt, pages, request, response, lang=lang, form={STEP_UP: request_id}
        )
    except idporten.LoginFailed:
        return pages.redirect(f"{_status_url(request_id)}?confirmed=confirm_failed")
    response.headers["location"] = url
    return response


async def _step_up_back(
    rt: Runtime,
    session: AsyncSession,
    pages: Pages,
    request: Request,
    login: idporten.Pending,
    *,
    state: str,
    code: str,
) -> Response:
    """The way back from a log-in started on the status page: the ID token proves more about
    the request this browser holds, through the API's verification (same checks, limits and
    audit); then the status page says how it went."""
    request_id = str(login.form[STEP_UP])
    outcome = "confirmed"
    try:
        if not await access.holds(pages, request, session, request_id):
            raise idporten.LoginFailed("confirm_expired")
        if not code:
            raise idporten.LoginFailed("confirm_expired")
        id_token = await idporten.finish(rt, login, state=state, code=code)
        await limit(rt, request, None, "verify", target=request_id, visitor=None)
        body = CodeIn(id_token=id_token, id_token_nonce=login.nonce)
        await flows.verify(rt, session, request_id, principal=CENTRE, body=body)
    except idporten.LoginFailed as failed:
        expired = failed.reason in ("login_expired", "confirm_expired")
        outcome = "confirm_expired" if expired else "confirm_failed"
    except VerificationFailed as refused:
        outcome = "confirm_mismatch" if refused.extensions.get("conflicting") else "confirm_failed"
    except (TooManyAttempts, InvalidTransition, NotFound):
        outcome = "confirm_failed"
    response = pages.redirect(f"{_status_url(request_id)}?confirmed={outcome}")
    idporten.forget(pages, response)
    if outcome != "confirmed":
        raise Shown(response)  # the refusal's audit and counted try, as the API writes them
    return response


def _not_yours(pages: Pages, request: Request, lang: Lang) -> HTMLResponse:
    return problem(pages, request, lang, 404, "no_access_title", "no_access_detail")


def _code_page(
    pages: Pages,
    request: Request,
    lang: Lang,
    request_id: str,
    *,
    error: str | None = None,
    note: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    said = words(AREA, lang)
    return pages.render(
        request,
        "centre/code.html",
        area=AREA,
        lang=lang,
        framable=True,
        status_code=status_code,
        request_id=request_id,
        errors={"code": said[error]} if error else {},
        note=said[note] if note else None,
    )


@router.get("/requests/{request_id}/code", response_class=HTMLResponse)
async def code_page(request: Request, pages: PagesDep, request_id: HeldRequest) -> HTMLResponse:
    return _code_page(pages, request, pages.language(request), request_id)


_CODE_ERRORS = {
    "the code has expired; ask for a new one": "code_expired",
}


@router.post("/requests/{request_id}/code", response_class=HTMLResponse)
async def check_code(
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
    pages: PagesDep,
    form: FormDep,
    request_id: HeldRequest,
) -> Response:
    """The e-mail code, through the API's verification flow (same attempts, same limits)."""
    lang = pages.language(request)
    code = text(form, "code", limit=12).replace(" ", "")
    if len(code) < 4:
        return _code_page(pages, request, lang, request_id, error="code_missing", status_code=422)
    if (await requests.get(session, request_id)).verification_state == "verified":
        return pages.redirect(_status_url(request_id))  # a second tab, or a reload
    try:
        await limit(rt, request, None, "verify", target=request_id, visitor=None)
        await flows.verify(rt, session, request_id, principal=CENTRE, body=CodeIn(code=code))
    except (VerificationFailed, TooManyAttempts, InvalidTransition) as refused:
        error, status_code = _code_error(refused)
        page = _code_page(pages, request, lang, request_id, error=error, status_code=status_code)
        raise Shown(page) from None
    return pages.redirect(_status_url(request_id))


def _code_error(refused: DomainError) -> tuple[str, int]:
    """The words for a refused code, and the status the API gives it."""
    if isinstance(refused, TooManyAttempts):
        return "code_too_many", 429
    if isinstance(refused, VerificationFailed):
        return _CODE_ERRORS.get(refused.detail, "code_wrong"), 422
    return "code_none", 409


@router.post("/requests/{request_id}/code/resend", response_class=HTMLResponse)
async def resend(
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
    pages: PagesDep,
    _: FormDep,
    request_id: HeldRequest,
) -> Response:
    lang = pages.language(request)
    try:
        await limit(rt, request, None, "resend", target=request_id, visitor=None)
        await requests.resend_code(rt, session, request_id)
    except (TooManyAttempts, InvalidTransition, NotPermitted):
        page = _code_page(pages, request, lang, request_id, error="resend_refused", status_code=429)
        raise Shown(page) from None
    return _code_page(pages, request, lang, request_id, note="resent")


@router.get("/requests/{request_id}", response_class=HTMLResponse)
async def status_page(
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
    pages: PagesDep,
    request_id: RequestId,
    token: Annotated[str | None, Query(min_length=8, max_length=200)] = None,
    confirmed: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """What happens now, the deadline in words, and once finished what each system did."""
    lang = pages.language(request)
    if token is not None:  # from a letter's link: into the cookie, out of the address
        response = pages.redirect(_status_url(request_id))
        try:
            await limit(rt, request, None, "status", target=request_id, visitor=None)
            matches = SubjectVault.token_matches(await requests.get(session, request_id), token)
        except TooManyAttempts:
            raise Shown(too_many(pages, request, lang)) from None
        except NotFound:
            matches = False
        if matches:  # a made-up token is not kept
            access.remember(pages, request, response, request_id, token)
        return response
    held = access.token_for(pages, request, request_id)
    if held is None:
        return _not_yours(pages, request, lang)
    try:
        await limit(rt, request, None, "status", target=request_id, visitor=None)
        page = await subject_views.status_page(rt, session, request_id, held)
    except TooManyAttempts:
        raise Shown(too_many(pages, request, lang)) from None
    except (NotFound, NotPermitted):
        raise Shown(_not_yours(pages, request, lang)) from None
    status = page.status
    download = status.download_url
    return pages.render(
        request,
        "centre/status.html",
        area=AREA,
        lang=lang,
        framable=True,
        page=page,
        status=status,
        request_id=request_id,
        kind_words=letter_words.kind(status.kind.value, lang),
        due=long_date(status.due_at, lang),
        extended=long_date(status.extended_due_at, lang) if status.extended_due_at else None,
        download=download.replace(answer_links.PREFIX, "/personvern/answers/")
        if download
        else None,
        system_words=lambda name: letter_words.system(name, lang),
        categories_words=lambda cats: letter_words.join(
            [letter_words.category(c, lang) for c in cats], lang
        ),
        fields_words=lambda fields: letter_words.join(
            [letter_words.field(f, lang) for f in fields], lang
        ),
        date_words=lambda day: long_date(day, lang),
        idporten=bool(pages.settings.oidc_issuer),
        confirmed=confirmed if confirmed in CONFIRMED else "",
        waiting=", ".join(
            letter_words.system(s, lang)
            for s in (status.identity_needed.systems if status.identity_needed else [])
        ),
    )


@router.get("/answers/{link}", response_class=HTMLResponse)
async def download_page(
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
    pages: PagesDep,
    link: LinkToken,
) -> Response:
    """The answer's formats, each a link to ``/v1/answers/{link}``; nothing is read (or
    counted) until one is opened. An expired or withdrawn link: plain words."""
    lang = pages.language(request)
    try:
        await limit(rt, request, None, "answer", target=None, visitor=None)
        _answered, expires_at = await answer_links.peek(rt, session, link)
    except TooManyAttempts:
        raise Shown(too_many(pages, request, lang)) from None
    except NotFound:
        raise Shown(
            problem(pages, request, lang, 404, "not_found_title", "not_found_detail")
        ) from None
    except Gone as gone:
        revoked = gone.extensions.get("reason") == "revoked"
        detail = "link_revoked" if revoked else "link_expired"
        raise Shown(
            problem(pages, request, lang, 410, "link_expired_title", detail, None)
        ) from None
    return pages.render(
        request,
        "centre/download.html",
        area=AREA,
        lang=lang,
        framable=True,
        base=answer_links.PREFIX + link,
        expires=long_date(expires_at.replace(tzinfo=expires_at.tzinfo or UTC), lang),
    )
