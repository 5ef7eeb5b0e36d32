"""Staff log in with the company's identity provider (``INNSYN_STAFF_ISSUER``): the OpenID
Connect authorization code flow with PKCE (S256), state and nonce, endpoints from the issuer's
discovery document. The ID token is verified by the API's own ``StaffTokenVerifier`` (issuer,
audience, signature from the issuer's JWKS, roles from its roles claim), then the session
starts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
import time
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from jose import jwt

from app.deps import RuntimeDep
from app.security import InvalidToken, Principal
from app.web.console.auth import LOGIN, safe_next, start_session, use_up, used
from app.web.console.routes import render_login
from app.web.cookies import SignedCookie
from app.web.forms import PagesDep
from app.web.keys import derive
from app.web.render import Pages

router = APIRouter(prefix="/console/login", include_in_schema=False)
log = logging.getLogger("innsyn.console")
FLOW_COOKIE = "innsyn_console_login"
FLOW_SECONDS = 600
TIMEOUT = 10.0


class LoginFailed(Exception):
    """The log-in did not complete; ``reason`` names the words that say why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def code_challenge(verifier: str) -> str:
    """RFC 7636 S256: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _flow_cookie(pages: Pages) -> SignedCookie:
    """State, nonce, verifier and where to go, for the ten minutes a log-in may take. It is
    SameSite=Lax: the issuer sends the browser back with a top-level GET from its own site."""
    assert pages.settings.data_key is not None
    key = derive(pages.settings.data_key.get_secret_value(), "console-login")
    return SignedCookie(key, FLOW_COOKIE, max_age=FLOW_SECONDS, salt="console-login")


async def discover(issuer: str) -> dict[str, Any]:
    """The issuer's discovery document; it must name the issuer we trust and both endpoints."""
    url = issuer.rstrip("/") + "/.well-known/openid-configuration"
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            answer = await client.get(url)
            answer.raise_for_status()
            document = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise LoginFailed("login_failed_issuer") from exc
    if not isinstance(document, dict) or document.get("issuer") != issuer:
        raise LoginFailed("login_failed_issuer")
    for endpoint in ("authorization_endpoint", "token_endpoint"):
        if not isinstance(document.get(endpoint), str):
            raise LoginFailed("login_failed_issuer")
    return document


def _client_id(pages: Pages) -> str:
    return pages.settings.staff_client_id or pages.settings.staff_audience


def _redirect_uri(request: Request) -> str:
    return str(request.url_for("staff_login_callback"))


@router.get("/start")
async def login_start(
    request: Request,
    pages: PagesDep,
    next: Annotated[str, Query(max_length=500)] = "/console/",
) -> Response:
    issuer = pages.settings.staff_issuer
    if not issuer:
        return pages.redirect("/console/login")
    try:
        document = await discover(issuer)
    except LoginFailed as failed:
        return _failed(pages, request, failed.reason)
    flow = {
        "state": secrets.token_urlsafe(32),
        "nonce": secrets.token_urlsafe(32),
        "verifier": secrets.token_urlsafe(64),
        "next": safe_next(next),
    }
    query = urlencode(
        {
            "response_type": "code",
            "client_id": _client_id(pages),
            "redirect_uri": _redirect_uri(request),
            "scope": "openid",
            "state": flow["state"],
            "nonce": flow["nonce"],
            "code_challenge": code_challenge(flow["verifier"]),
            "code_challenge_method": "S256",
        }
    )
    response = pages.redirect(f"{document['authorization_endpoint']}?{query}")
    _flow_cookie(pages).store(response, request, flow, same_site="lax", path="/console/login")
    return response


async def _exchange(
    pages: Pages, request: Request, token_endpoint: str, code: str, verifier: str
) -> str:
    """The code and its verifier for the ID token, at the issuer's token endpoint."""
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": _redirect_uri(request),
        "code_verifier": verifier,
        "client_id": _client_id(pages),
    }
    secret = pages.settings.staff_client_secret
    auth = httpx.BasicAuth(_client_id(pages), secret.get_secret_value()) if secret else None
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT, auth=auth) as client:
            answer = await client.post(token_endpoint, data=form)
            answer.raise_for_status()
            body = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise LoginFailed("login_failed_refused") from exc
    token = body.get("id_token") if isinstance(body, dict) else None
    if not isinstance(token, str):
        raise LoginFailed("login_failed_refused")
    return token


async def _verified(rt: RuntimeDep, token: str, nonce: str) -> Principal:
    """The staff member the ID token names, after the API's verifier accepted it and its
    nonce matches this log-in (a token replayed from another log-in is refused)."""
    try:
        principal = await rt.tokens.verify(token)
        claims = jwt.get_unverified_claims(token)  # the signature was checked just above
    except (InvalidToken, ValueError) as exc:
        raise LoginFailed("login_failed_token") from exc
    if not isinstance(claims.get("nonce"), str) or not hmac.compare_digest(claims["nonce"], nonce):
        raise LoginFailed("login_failed_token")
    if not principal.roles:
        raise LoginFailed("login_failed_no_role")
    await _use_once(rt, token, claims)
    return principal


async def _use_once(rt: RuntimeDep, token: str, claims: dict[str, Any]) -> None:
    """One ID token, one session: a token seen before (a replayed way back, an issuer that
    let a code work twice) is refused, and this one is remembered until it expires."""
    jti = claims.get("jti")
    token_id = str(jti) if jti else hashlib.sha256(token.encode()).hexdigest()
    exp = claims.get("exp")
    until = float(exp) if isinstance(exp, int | float) else time.time() + FLOW_SECONDS
    async with rt.db.session() as session:
        if await used(session, LOGIN, token_id):
            raise LoginFailed("login_failed_token")
        await use_up(session, rt, LOGIN, token_id, until)


@router.get("/callback", name="staff_login_callback", response_class=HTMLResponse)
async def login_callback(
    request: Request,
    pages: PagesDep,
    rt: RuntimeDep,
    code: Annotated[str, Query(max_length=2000)] = "",
    state: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    flow = _flow_cookie(pages).load(request)
    issuer = pages.settings.staff_issuer
    try:
        if flow is None or not issuer:
            raise LoginFailed("login_failed_expired")
        if not state or not hmac.compare_digest(str(flow.get("state", "")), state):
            raise LoginFailed("login_failed_expired")
        if not code:
            raise LoginFailed("login_failed_refused")
        document = await discover(issuer)
        token = await _exchange(
            pages, request, document["token_endpoint"], code, str(flow["verifier"])
        )
        principal = await _verified(rt, token, str(flow["nonce"]))
    except LoginFailed as failed:
        log.info("console: a log-in with the identity provider failed (%s)", failed.reason)
        response = _failed(pages, request, failed.reason)
        _flow_cookie(pages).clear(response, path="/console/login")
        return response
    goal = safe_next(str(flow.get("next", "/console/")))
    # A page, not a redirect: the browser arrived from the issuer's site, and a SameSite=Strict
    # cookie set now is only sent on a navigation this site starts itself.
    lang = pages.language(request)
    response = pages.render(request, "console/logged_in.html", area="console", lang=lang, goal=goal)
    start_session(pages, request, response, principal)
    _flow_cookie(pages).clear(response, path="/console/login")
    return response


def _failed(pages: Pages, request: Request, reason: str) -> HTMLResponse:
    return render_login(pages, request, "/console/", failure=reason, status_code=400)
