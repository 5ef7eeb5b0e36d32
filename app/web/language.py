"""Which language a page speaks: an explicit choice (``?lang=``, then the cookie), else the
browser's Accept-Language, else the configured default. Only Norwegian and English exist."""

from __future__ import annotations

from typing import Literal

from babel import negotiate_locale
from fastapi import Request

Lang = Literal["nb", "en"]
LANGUAGES: tuple[Lang, ...] = ("nb", "en")
COOKIE = "innsyn_lang"
# Browsers send "no", "nn" or "nb" for Norwegian; all of them read Bokmål well.
_ALIASES = {"no": "nb", "nn": "nb"}


def _accepted(header: str) -> list[str]:
    """The base languages of an Accept-Language header, best first."""
    weighted: list[tuple[float, str]] = []
    for part in header.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        base = tag.strip().split("-")[0].lower()
        if base:
            weighted.append((quality, _ALIASES.get(base, base)))
    return [tag for _, tag in sorted(weighted, key=lambda pair: -pair[0])]


def choose(request: Request, default: Lang) -> Lang:
    for explicit in (request.query_params.get("lang"), request.cookies.get(COOKIE)):
        if explicit == "nb":
            return "nb"
        if explicit == "en":
            return "en"
    chosen = negotiate_locale(_accepted(request.headers.get("accept-language", "")), LANGUAGES)
    return "en" if chosen == "en" else "nb" if chosen == "nb" else default
