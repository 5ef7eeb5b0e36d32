"""What every console page gives its template besides the foundation's: who is logged in,
what they may do, and dates in the page's language (Babel, Oslo time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from app.domain import report_values
from app.domain.requests import Role
from app.security import Principal
from app.web.language import Lang
from app.web.render import Pages


@dataclass(frozen=True)
class Formats:
    lang: Lang

    def date(self, value: date | None) -> str:
        return report_values.as_date(value, self.lang) if value else ""

    def time(self, value: datetime | None) -> str:
        return report_values.as_datetime(value, self.lang) if value else ""


@dataclass(frozen=True)
class Can:
    """``can(roles)`` in a template: whether the staff member may use a form."""

    staff: Principal

    def __call__(self, roles: frozenset[Role]) -> bool:
        return self.staff.has_any(roles)


def render(
    pages: Pages,
    request: Request,
    template: str,
    staff: Principal,
    *,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    lang = pages.language(request)
    return pages.render(
        request,
        template,
        area="console",
        lang=lang,
        status_code=status_code,
        staff=staff,
        can=Can(staff),
        fmt=Formats(lang),
        **context,
    )
