"""Log-in with the person's identity provider (ID-porten or any OpenID provider): the
authorization-code flow with PKCE (S256), a nonce and a state, so the page itself obtains
the ID token that then verifies the request exactly as the API's ``id_token`` does.

Between the redirect to the provider and its return, the state, the nonce, the PKCE
verifier and what the person typed in the form are kept in a short-lived signed cookie,
sealed with the data key (the form holds personal data: it never lies in the browser in
clear). The cookie is SameSite=Lax: the provider's redirect back is a top-level navigation
from another site, which a Strict cookie would not survive.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import Request, Response

from app.runtime import Runtime
from app.web.cookies import SignedCookie
from app.web.keys import derive
from app.web.render import Pages

COOKIE = "innsyn_login"
PATH = "/personvern"
CALLBACK = "/personvern/callback"
MAX_AGE = 600  # ten minutes to log in
_PURPOSE = "centre-login"


class LoginFailed(Exception):
    """The provider, or the way back from it, did not give a usable ID token. ``reason`` is
    the word key the form shows (never the provider's own text: it may hold anything)."""

    def __init__(self, reason: str = "login_failed") -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Pending:
    """One log-in on its way: what the callback checks, and the form to file after."""

    state: str
    nonce: str
    verifier: str
    lang: str
    form: dict[str, Any]


def challenge(verifier: str) -> str:
    """PKCE S256: BASE64URL(SHA256(verifier)), without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _cookie(pages: Pages) -> SignedCookie:
    settings = pages.settings
    assert settings.data_key is not None
    key = derive(settings.data_key.get_secret_value(), _PURPOSE)
    return SignedCookie(key, COOKIE, max_age=MAX_AGE, salt=_PURPOSE)


def redirect_uri(rt: Runtime) -> str:
    return rt.settings.public_base_url.rstrip("/") + CALLBACK


async def _discovery(rt: Runtime) -> dict[str, Any]:
    issuer = rt.settings.oidc_issuer
    if not issuer:
        raise LoginFailed
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            answer = await client.get(issuer.rstrip("/") + "/.well-known/openid-configuration")
            answer.raise_for_status()
            document = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise LoginFailed from exc
    if not isinstance(document, dict):
        raise LoginFailed
    return document


async def start(
    rt: Runtime,
    pages: Pages,
    request: Request,
    response: Response,
    *,
    lang: str,
    form: dict[str, Any],
) -> str:
    """Where to send the browser: the provider's authorization endpoint, with a fresh
    state, nonce and PKCE challenge; the pending log-in goes into the cookie on ``response``."""
    endpoint = (await _discovery(rt)).get("authorization_endpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        raise LoginFailed
    pending = Pending(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        verifier=secrets.token_urlsafe(64),
        lang=lang,
        form=form,
    )
    sealed = rt.cipher.seal(pending.__dict__, purpose=_PURPOSE)
    _cookie(pages).store(response, request, {"p": sealed}, same_site="lax", path=PATH)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": rt.settings.oidc_audience or "",
            "redirect_uri": redirect_uri(rt),
            "scope": "openid",
            "state": pending.state,
            "nonce": pending.nonce,
            "code_challenge": challenge(pending.verifier),
            "code_challenge_method": "S256",
        }
    )
    return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"


def pending(rt: Runtime, pages: Pages, request: Request) -> Pending | None:
    """The log-in this browser started (at most ten minutes ago), if any."""
    stored = _cookie(pages).load(request)
    if not stored or not isinstance(stored.get("p"), str):
        return None
    try:
        value = rt.cipher.open(stored["p"], purpose=_PURPOSE)
        return Pending(**value)
    except (ValueError, TypeError):
        return None


def forget(pages: Pages, response: Response) -> None:
    _cookie(pages).clear(response, path=PATH)


async def finish(rt: Runtime, login: Pending, *, state: str, code: str) -> str:
    """The ID token for ``code``, once ``state`` matches the one this browser was sent with.
    The token itself (signature, issuer, audience, nonce) is checked by the filing, as the
    API checks any ID token."""
    if not hmac.compare_digest(state.encode(), login.state.encode()):
        raise LoginFailed("login_expired")
    endpoint = (await _discovery(rt)).get("token_endpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        raise LoginFailed
    client_id = rt.settings.oidc_audience or ""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri(rt),
        "client_id": client_id,
        "code_verifier": login.verifier,
    }
    secret = rt.settings.oidc_client_secret
    auth = httpx.BasicAuth(client_id, secret.get_secret_value()) if secret is not None else None
    try:
        async with httpx.AsyncClient(timeout=10, auth=auth) as client:
            answer = await client.post(endpoint, data=form)
            answer.raise_for_status()
            token = answer.json().get("id_token")
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        raise LoginFailed from exc
    if not isinstance(token, str) or not token:
        raise LoginFailed
    return token
