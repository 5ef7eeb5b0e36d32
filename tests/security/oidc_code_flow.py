"""The authorization code flow on top of the test issuer: an authorization endpoint that logs
in a configured account at once, and a token endpoint that checks the PKCE code verifier
(S256), the client and the redirect URI before it signs an ID token with the nonce.

Kept apart from ``oidc_issuer.py`` (which serves discovery, JWKS and signed tokens): this
module only adds to it."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.security.oidc_issuer import Issuer


@dataclass
class Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    claims: dict[str, Any]


@dataclass
class Account:
    """Who logs in at the authorization endpoint, and what goes into their ID token."""

    sub: str = "kari.saksbehandler"
    claims: dict[str, Any] = field(default_factory=lambda: {"roles": ["operator"]})


class CodeFlowIssuer(Issuer):
    """An issuer that also runs the code flow for one client."""

    def __init__(self, client_id: str, client_secret: str | None = None) -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.audience = client_id
        self.account = Account()
        self.grants: dict[str, Grant] = {}
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.token_overrides: dict[str, Any] = {}
        self.app.router.routes.extend(
            [
                Route("/authorize", self._authorize),
                Route("/token", self._token, methods=["POST"]),
            ]
        )

    async def _discovery(self, _request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "issuer": self.url,
                "jwks_uri": f"{self.url}/jwks",
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def _authorize(self, request: Request) -> Response:
        asked = dict(request.query_params)
        self.authorize_requests.append(asked)
        wanted = {"response_type": "code", "client_id": self.client_id, "scope": "openid"}
        if any(asked.get(k) != v for k, v in wanted.items()):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if asked.get("code_challenge_method") != "S256" or not asked.get("code_challenge"):
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        code = secrets.token_urlsafe(24)
        self.grants[code] = Grant(
            client_id=asked["client_id"],
            redirect_uri=asked["redirect_uri"],
            challenge=asked["code_challenge"],
            nonce=asked.get("nonce", ""),
            claims={"sub": self.account.sub, **self.account.claims},
        )
        back = urlencode({"code": code, "state": asked.get("state", "")})
        return RedirectResponse(f"{asked['redirect_uri']}?{back}", status_code=302)

    def _client_ok(self, request: Request, form: dict[str, str]) -> bool:
        if self.client_secret is None:
            return form.get("client_id") == self.client_id
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    async def _token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        self.token_requests.append(form)
        grant = self.grants.pop(form.get("code", ""), None)  # a code works once
        if grant is None or form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if not self._client_ok(request, form) or form.get("redirect_uri") != grant.redirect_uri:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        verifier = form.get("code_verifier", "")
        digest = hashlib.sha256(verifier.encode()).digest()
        if base64.urlsafe_b64encode(digest).decode().rstrip("=") != grant.challenge:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        claims = {**grant.claims, "nonce": grant.nonce, **self.token_overrides}
        return JSONResponse(
            {"id_token": self.token(**claims), "access_token": "opaque", "token_type": "Bearer"}
        )
