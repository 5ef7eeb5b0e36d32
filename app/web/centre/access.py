"""How the pages know this browser may see a request: the status token the request was filed
with, kept in an HttpOnly cookie for ``/personvern`` only.

Why a cookie and not the token in the page's address (as the API's status link carries it):
an address ends up in the browser's history, in bookmarks, in screenshots and in the logs of
any proxy in between, and is easily shared by copying it. The cookie is sent only to our
own pages (its path), is unreadable to any script (HttpOnly; the pages run none anyway), is
Secure over HTTPS, and SameSite=Lax so a link in our e-mail still opens the status page but
no other site can post with it. It is signed, so a browser cannot make up an entry. The token
is the person's own: holding it in their own browser gives nobody else anything. When the
status link of a letter brings the token in the address (``?token=``), the page moves it into
the cookie and sends the browser on to the address without it. Tokens are never logged.
"""

from __future__ import annotations

from fastapi import Request, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from app.domain.errors import NotFound
from app.services import requests
from app.services.subjects import SubjectVault
from app.web.cookies import SameSite, SignedCookie
from app.web.keys import derive
from app.web.render import Pages

COOKIE = "innsyn_requests"
PATH = "/personvern"
# A request runs up to three months, and its answer can be fetched again after that.
MAX_AGE = 180 * 86400
# The newest requests filed from this browser that the cookie remembers.
REMEMBERED = 5


def _cookie(pages: Pages) -> SignedCookie:
    key = derive(pages.settings.data_key.get_secret_value(), "centre-requests")  # type: ignore[union-attr]
    return SignedCookie(key, COOKIE, max_age=MAX_AGE, salt="centre-requests")


def _same_site(pages: Pages) -> SameSite:
    """Inside a frame on the company's site, only SameSite=None cookies reach us."""
    return "none" if pages.settings.frame_ancestors else "lax"


def tokens(pages: Pages, request: Request) -> dict[str, str]:
    held = (_cookie(pages).load(request) or {}).get("r")
    if not isinstance(held, dict):
        return {}
    return {str(k): str(v) for k, v in held.items() if isinstance(v, str)}


def token_for(pages: Pages, request: Request, request_id: str) -> str | None:
    return tokens(pages, request).get(request_id)


async def holds(pages: Pages, request: Request, session: AsyncSession, request_id: str) -> bool:
    """Whether this browser holds the request's real status token. The cookie being signed
    proves only that we wrote it; what went in may have come from a made-up ``?token=``,
    so every page that acts on a request checks the token itself, as the API does."""
    held = token_for(pages, request, request_id)
    if held is None:
        return False
    try:
        return SubjectVault.token_matches(await requests.get(session, request_id), held)
    except NotFound:
        return False


def remember(
    pages: Pages, request: Request, response: Response, request_id: str, token: str
) -> None:
    """Add a request to this browser's cookie (the oldest ones drop out)."""
    held = tokens(pages, request)
    held.pop(request_id, None)
    held[request_id] = token
    newest = dict(list(held.items())[-REMEMBERED:])
    _cookie(pages).store(response, request, {"r": newest}, same_site=_same_site(pages), path=PATH)
