"""``/console/overview/…``: connectors and their health, holds ending soon, webhook
subscriptions and their deliveries, and the monthly summary (page and CSV). Each page reads
what the API's endpoint for the same data reads, under the same roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import RuntimeDep, SessionDep
from app.domain import letter_words
from app.domain.holds import HoldBasis
from app.domain.monthly_summary import OSLO, Month
from app.domain.report_values import as_date, as_datetime
from app.domain.requests import Role
from app.security import Principal
from app.services import overview
from app.web.console import summary as shown
from app.web.console.auth import StaffPage, staff_page
from app.web.forms import PagesDep
from app.web.words import words

router = APIRouter(prefix="/console/overview", include_in_schema=False)
AREA = "console"
# The API lists webhooks to admins only (``app.routers.webhooks``): so does the page.
AdminPage = Annotated[Principal, Depends(staff_page(Role.admin))]
MonthQuery = Annotated[str | None, Query(max_length=20)]


@router.get("/connectors", response_class=HTMLResponse)
async def connectors(
    request: Request, pages: PagesDep, rt: RuntimeDep, session: SessionDep, staff: StaffPage
) -> HTMLResponse:
    lang = pages.language(request)
    health = await overview.connectors(rt, session)
    return pages.render(
        request,
        "console/overview/connectors.html",
        area=AREA,
        lang=lang,
        staff=staff,
        health=health,
        failure_days=overview.FAILURE_DAYS,
        checked_at=as_datetime(health.checked_at, lang),
        when=lambda moment: as_datetime(moment, lang),
        system=lambda name: letter_words.system(name, lang),
        category=lambda code: letter_words.category(code, lang),
    )


@router.get("/holds", response_class=HTMLResponse)
async def holds(
    request: Request, pages: PagesDep, rt: RuntimeDep, session: SessionDep, staff: StaffPage
) -> HTMLResponse:
    lang = pages.language(request)
    today = rt.clock.now().astimezone(OSLO).date()
    rows = await overview.active_holds(session)
    catalogue = rt.hold_catalogue
    return pages.render(
        request,
        "console/overview/holds.html",
        area=AREA,
        lang=lang,
        staff=staff,
        holds=[
            {
                "hold": h,
                "basis": _basis(catalogue.get(h.basis_code), h.basis_code, lang),
                "until": as_date(h.until, lang) if h.until else None,
                "soon": overview.ends_soon(h.until, today),
                "passed": h.until is not None and h.until < today,
                "categories": [letter_words.category(c, lang) for c in h.categories],
            }
            for h in rows
        ],
        system=lambda name: letter_words.system(name, lang),
    )


def _basis(basis: HoldBasis | None, code: str, lang: str) -> str:
    """The basis in words from the hold catalogue; a basis no longer in it by its code."""
    if basis is None:
        return code.replace("_", " ")
    return basis.en if lang == "en" else basis.nb


@router.get("/webhooks", response_class=HTMLResponse)
async def webhooks(
    request: Request, pages: PagesDep, session: SessionDep, staff: AdminPage
) -> HTMLResponse:
    lang = pages.language(request)
    return pages.render(
        request,
        "console/overview/webhooks.html",
        area=AREA,
        lang=lang,
        staff=staff,
        subscriptions=await overview.webhooks(session),
        when=lambda moment: as_datetime(moment, lang),
    )


def _month(rt: RuntimeDep, month: str | None) -> tuple[Month, bool]:
    """The month asked for, or this month (and whether the one asked for was not a month)."""
    chosen = Month.parse(month) if month else None
    return chosen or Month.of(rt.clock.now()), bool(month) and chosen is None


@router.get("/summary", response_class=HTMLResponse)
async def summary(
    request: Request,
    pages: PagesDep,
    rt: RuntimeDep,
    session: SessionDep,
    staff: StaffPage,
    month: MonthQuery = None,
) -> HTMLResponse:
    lang = pages.language(request)
    w = words(AREA, lang)
    chosen, not_a_month = _month(rt, month)
    result = await overview.monthly_summary(session, chosen)
    return pages.render(
        request,
        "console/overview/summary.html",
        area=AREA,
        lang=lang,
        staff=staff,
        not_a_month=not_a_month,
        month=chosen,
        month_name=shown.month_name(chosen, lang),
        previous=chosen.shifted(-1),
        next=chosen.shifted(1),
        first=shown.month_name(result.months[0][0], lang),
        chosen=shown.row(shown.month_name(chosen, lang), result.chosen, lang),
        kinds=[k.value for k in shown.KINDS],
        headers=shown.headers(w),
        rows=shown.rows(result, lang, w["ov_twelve_months"]),
        chart=shown.chart(result, lang, w),
        chart_desc=shown.description(result, lang, w),
    )


@router.get("/summary.csv")
async def summary_csv(
    request: Request,
    pages: PagesDep,
    rt: RuntimeDep,
    session: SessionDep,
    _staff: StaffPage,
    month: MonthQuery = None,
) -> Response:
    lang = pages.language(request)
    chosen, _ = _month(rt, month)
    result = await overview.monthly_summary(session, chosen)
    return Response(
        shown.csv_text(result, lang, words(AREA, lang)),
        media_type="text/csv; charset=utf-8",
        headers={
            **pages.headers(framable=False),
            "Content-Disposition": f'attachment; filename="innsyn-summary-{chosen}.csv"',
        },
    )
