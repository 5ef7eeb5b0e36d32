"""A real OpenID issuer for tests: RSA keys made here, discovery and JWKS served over HTTP."""

from __future__ import annotations

import time
import uuid
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwk, jwt
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class SigningKey:
    def __init__(self) -> None:
        self.kid = uuid.uuid4().hex[:12]
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
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
        key = jwk.construct(self.public_pem, algorithm="RS256").to_dict()
        return {k: (v.decode() if isinstance(v, bytes) else v) for k, v in key.items()} | {
            "kid": self.kid,
            "use": "sig",
            "alg": "RS256",
        }


class Issuer:
    """Holds the keys; ``app`` serves them; ``token`` signs ID tokens like an IdP would."""

    def __init__(self) -> None:
        self.keys = [SigningKey()]
        self.url = ""
        self.audience = "innsyn-web"
        self.jwks_requests = 0
        self.app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self._discovery),
                Route("/jwks", self._jwks),
            ]
        )

    async def _discovery(self, _request: Request) -> JSONResponse:
        return JSONResponse({"issuer": self.url, "jwks_uri": f"{self.url}/jwks"})

    async def _jwks(self, _request: Request) -> JSONResponse:
        self.jwks_requests += 1
        return JSONResponse({"keys": [k.public_jwk() for k in self.keys]})

    def rotate(self) -> SigningKey:
        key = SigningKey()
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

    def token(self, key: SigningKey | None = None, *, alg: str = "RS256", **overrides: Any) -> str:
        key = key or self.keys[0]
        return str(
            jwt.encode(
                self.claims(**overrides), key.private_pem, algorithm=alg, headers={"kid": key.kid}
            )
        )
