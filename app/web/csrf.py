"""CSRF protection for every form: a random cookie and, in the form, its HMAC.

A cross-site page can make the browser send the cookie but cannot read it, so it cannot
compute the field; and it cannot read the field off our page (no CORS, frame-ancestors).
The cookie is SameSite=Strict, except when the company lets its own site frame the form:
then it must be SameSite=None (and Secure) to reach us from inside the frame.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from fastapi import Request, Response

from app.web.cookies import SameSite, set_cookie

COOKIE = "innsyn_csrf"
FIELD = "csrf_token"


class CsrfRefused(Exception):
    """A form arrived without a valid token (a forged post, or an expired page)."""


class Csrf:
    def __init__(self, key: bytes, *, framed: bool) -> None:
        self._key = key
        self._same_site: SameSite = "none" if framed else "strict"

    def _mac(self, cookie: str) -> str:
        digest = hmac.new(self._key, cookie.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def token(self, request: Request, response: Response) -> str:
        """The form field for this browser, setting the cookie on ``response`` if it has none."""
        cookie = getattr(request.state, "csrf_cookie", None) or request.cookies.get(COOKIE)
        if not cookie or len(cookie) > 128:
            cookie = secrets.token_urlsafe(32)
            set_cookie(response, request, COOKIE, cookie, max_age=None, same_site=self._same_site)
            request.state.csrf_cookie = cookie
        return self._mac(cookie)

    def renew(self, request: Request, response: Response) -> None:
        """A new cookie at log-in: a token cookie planted or read before it is worth nothing
        after (the CSRF side of session fixation)."""
        cookie = secrets.token_urlsafe(32)
        set_cookie(response, request, COOKIE, cookie, max_age=None, same_site=self._same_site)
        request.state.csrf_cookie = cookie

    def check(self, request: Request, submitted: object) -> None:
        cookie = request.cookies.get(COOKIE)
        if not cookie or not isinstance(submitted, str) or not submitted:
            raise CsrfRefused
        if not hmac.compare_digest(self._mac(cookie), submitted):
            raise CsrfRefused
