"""Rendering a page: Jinja2 templates, the words of one language, the company's brand, and
the headers every page carries (no caching of personal data, a tight CSP, framing only by
the origins the company names)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.settings import Settings
from app.web.cookies import set_cookie
from app.web.csrf import Csrf
from app.web.keys import derive
from app.web.language import COOKIE as LANG_COOKIE
from app.web.language import Lang, choose
from app.web.words import words


@dataclass(frozen=True)
class Brand:
    """The company's name, logo and colour on every page (settings ``INNSYN_BRAND_*``)."""

    name: str
    colour: str
    logo_url: str | None


_NONE = "'none'"


class Pages:
    """One per process: the template environment and what every page needs from settings."""

    def __init__(self, settings: Settings) -> None:
        assert settings.data_key is not None
        self.settings = settings
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("app.web", "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.csrf = Csrf(
            derive(settings.data_key.get_secret_value(), "csrf"),
            framed=bool(settings.frame_ancestors),
        )
        self.brand = Brand(
            name=settings.brand_name or settings.controller_name or "Innsyn",
            colour=settings.brand_colour,
            logo_url=settings.brand_logo_url,
        )

    def language(self, request: Request) -> Lang:
        return choose(request, self.settings.default_language)

    def headers(self, *, framable: bool) -> dict[str, str]:
        ancestors = " ".join(self.settings.frame_ancestors) if framable else ""
        logo = self.settings.brand_logo_url
        img = "'self' data:" + (f" {_origin(logo)}" if logo and _origin(logo) else "")
        csp = (
            "default-src 'none'; base-uri 'none'; form-action 'self'; script-src 'none'; "
            f"style-src 'self'; img-src {img}; frame-ancestors {ancestors or _NONE}"
        )
        return {
            "Content-Security-Policy": csp,
            "Cache-Control": "no-store",
            "Pragma": "no-cache",
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
        }

    def render(
        self,
        request: Request,
        template: str,
        *,
        area: str,
        lang: Lang,
        status_code: int = 200,
        framable: bool = False,
        **context: Any,
    ) -> HTMLResponse:
        """``template`` in ``lang``, with ``w`` (the words), ``brand``, ``csrf_token`` and
        ``lang`` in its context. Pages the company may embed pass ``framable=True``: the
        privacy centre's, since a person who starts in the frame goes on there (the code, the
        status); never the console's."""
        response = HTMLResponse(
            "", status_code=status_code, headers=self.headers(framable=framable)
        )
        token = self.csrf.token(request, response)
        body = self.env.get_template(template).render(
            w=words(area, lang),
            lang=lang,
            other_lang="en" if lang == "nb" else "nb",
            brand=self.brand,
            csrf_token=token,
            path=request.url.path,
            **context,
        )
        response.body = response.render(body)
        response.headers["content-length"] = str(len(response.body))
        if request.query_params.get("lang") == lang:
            set_cookie(response, request, LANG_COOKIE, lang, max_age=365 * 86400, same_site="lax")
        return response

    def problem(
        self,
        request: Request,
        *,
        area: str,
        status_code: int,
        title: str,
        detail: str,
        back: str | None,
        framable: bool = False,
        lang: Lang | None = None,
    ) -> HTMLResponse:
        """A page that says in words what went wrong; ``title`` and ``detail`` are word keys
        of ``area`` (its own words and the common ones)."""
        lang = lang or self.language(request)
        said = words(area, lang)
        return self.render(
            request,
            "problem.html",
            area=area,
            lang=lang,
            status_code=status_code,
            framable=framable,
            title=said[title],
            detail=said[detail],
            back=back,
        )

    def redirect(self, url: str) -> RedirectResponse:
        """After a successful post: 303 so a reload does not post again."""
        return RedirectResponse(url, status_code=303, headers=self.headers(framable=True))


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else None


def get_pages(request: Request) -> Pages:
    """The process's ``Pages``, built on first use from the runtime's settings."""
    pages: Pages | None = getattr(request.app.state, "pages", None)
    if pages is None:
        pages = request.app.state.pages = Pages(request.app.state.runtime.settings)
    return pages
