"""A real OpenID issuer for tests: RSA keys made here, discovery and JWKS served over HTTP."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jose import jwk, jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

from app.connectors.testing.server import serve_app

_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}


class SigningKey:
    """An RSA key (``RS*``, ``PS*``) or an EC key on the curve ``ES*`` names."""

    def __init__(self, alg: str = "RS256") -> None:
        self.kid = uuid.uuid4().hex[:12]
        self.alg = alg
        self.publish_alg = True
        private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey = (
            ec.generate_private_key(_CURVES[alg]())
            if alg in _CURVES
            else rsa.generate_private_key(public_exponent=65537, key_size=2048)
        )
        self.private_pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        self.public_pem = (
            private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def public_jwk(self) -> dict[str, Any]:
        construct_as = "RS256" if self.alg.startswith("PS") else self.alg
        key = jwk.construct(self.public_pem, algorithm=construct_as).to_dict()
        published = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in key.items()}
        published |= {"kid": self.kid, "use": "sig", "alg": self.alg}
        if not self.publish_alg:  # many issuers leave it out; verifiers must cope
            del published["alg"]
        return published


class Issuer:
    """Holds the keys; ``app`` serves them; ``token`` signs ID tokens like an IdP would."""

    def __init__(self) -> None:
        self.keys = [SigningKey()]
        self.url = ""
        self.audience = "innsyn-web"
        self.jwks_requests = 0
        # The authorization-code flow: who logs in (claims of the ID token it issues), the
        # codes handed out, and what the token endpoint was last asked.
        self.login_claims: dict[str, Any] = {}
        self.client_secret: str | None = None
        self.codes: dict[str, dict[str, str]] = {}
        self.authorize_requests: list[dict[str, str]] = []
        self.token_requests: list[dict[str, str]] = []
        self.app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/jwks", self._jwks),
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

    async def _authorize(self, request: Request) -> JSONResponse | RedirectResponse:
        """The person "logs in" at once: back to the client with a code for this request."""
        q = request.query_params
        self.authorize_requests.append(dict(q))
        if q.get("response_type") != "code" or q.get("code_challenge_method") != "S256":
            return JSONResponse({"error": "invalid_request"}, status_code=400)
        if q.get("client_id") != self.audience or not q.get("code_challenge"):
            return JSONResponse({"error": "unauthorized_client"}, status_code=400)
        code = uuid.uuid4().hex
        self.codes[code] = {
            "challenge": q["code_challenge"],
            "nonce": q.get("nonce", ""),
            "redirect_uri": q.get("redirect_uri", ""),
        }
        query = urlencode({"code": code, "state": q.get("state", "")})
        return RedirectResponse(f"{q.get('redirect_uri')}?{query}", status_code=302)

    async def _token(self, request: Request) -> JSONResponse:
        """Exchanges a code once, for the verifier whose S256 challenge it was given."""
        form = {k: str(v) for k, v in (await request.form()).items()}
        self.token_requests.append(form)
        issued = self.codes.pop(form.get("code", ""), None)
        if issued is None or form.get("grant_type") != "authorization_code":
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if form.get("redirect_uri") != issued["redirect_uri"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        digest = hashlib.sha256(form.get("code_verifier", "").encode()).digest()
        if base64.urlsafe_b64encode(digest).decode().rstrip("=") != issued["challenge"]:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if self.client_secret is not None:
            expected = base64.b64encode(f"{self.audience}:{self.client_secret}".encode()).decode()
            if request.headers.get("authorization") != f"Basic {expected}":
                return JSONResponse({"error": "invalid_client"}, status_code=401)
        claims = {"nonce": issued["nonce"], "jti": uuid.uuid4().hex} | self.login_claims
        return JSONResponse(
            {"id_token": self.token(**claims), "token_type": "Bearer", "access_token": "opaque"}
        )

    async def _jwks(self, _request: Request) -> JSONResponse:
        self.jwks_requests += 1
        return JSONResponse({"keys": [k.public_jwk() for k in self.keys]})

    @contextmanager
    def served(self) -> Iterator[Issuer]:
        """Serve discovery and JWKS on a loopback port while the block runs."""
        with serve_app(self.app) as url:
            self.url = url
            yield self

    def rotate(self, alg: str = "RS256") -> SigningKey:
        key = SigningKey(alg)
        self.keys.append(key)
        return key

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self.url,
            "aud": self.audience,
            "sub": "idporten-sub-1",
            "pid": "30108299920",
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "nonce": "n-123",
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(
        self, key: SigningKey | None = None, *, alg: str | None = None, **overrides: Any
    ) -> str:
        key = key or self.keys[0]
        return sign(self.claims(**overrides), key, alg=alg)


@pytest.fixture(scope="module", name="issuer")
def served_issuer() -> Iterator[Issuer]:
    """The issuer served for a test module (import this fixture where it is needed)."""
    issuer = Issuer()
    with issuer.served():
        yield issuer


def sign(claims: dict[str, Any], key: SigningKey, *, alg: str | None = None) -> str:
    """A JWT over ``claims`` signed with ``key``; PS* (which python-jose cannot make) is signed
    here with ``cryptography``, so the verifier meets a genuine RSASSA-PSS token."""
    alg = alg or key.alg
    if not alg.startswith("PS"):
        return str(jwt.encode(claims, key.private_pem, algorithm=alg, headers={"kid": key.kid}))
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = {"alg": alg, "typ": "JWT", "kid": key.kid}
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    private = serialization.load_pem_private_key(key.private_pem.encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    digest = {"PS256": hashes.SHA256, "PS384": hashes.SHA384, "PS512": hashes.SHA512}[alg]()
    pss = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
    return f"{signing_input}.{b64(private.sign(signing_input.encode(), pss, digest))}"
