"""Staff tokens and form API keys. Every JWT call lives here, with an explicit algorithm list."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from jose import JWTError, jwt

from app.domain.requests import Role
from app.settings import Settings

LOCAL_ISSUER = "innsyn-local"
LOCAL_ALGORITHMS = ["HS256"]
REMOTE_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "PS256"]


class InvalidToken(Exception):
    """The bearer token is missing, malformed, expired, or not ours."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: staff (with roles), a form client (API key), or the data subject."""

    kind: str  # "staff" | "form" | "subject" | "system"
    id: str
    roles: frozenset[Role] = field(default_factory=frozenset)

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.id}"

    def has_any(self, roles: frozenset[Role]) -> bool:
        return self.kind == "staff" and (Role.admin in self.roles or bool(self.roles & roles))


SYSTEM = Principal(kind="system", id="innsyn")


def issue_local_token(
    settings: Settings, *, subject: str, roles: list[Role], ttl_minutes: int | None = None
) -> str:
    """A development staff token signed with the local key (``innsyn token``)."""
    assert settings.signing_key is not None
    now = int(time.time())
    claims = {
        "iss": LOCAL_ISSUER,
        "aud": settings.oidc_audience,
        "sub": subject,
        settings.staff_roles_claim: [r.value for r in roles],
        "iat": now,
        "nbf": now,
        "exp": now + 60 * (ttl_minutes or settings.token_ttl_minutes),
    }
    return str(jwt.encode(claims, settings.signing_key.get_secret_value(), algorithm="HS256"))


class JwksCache:
    """Caches the issuer's signing keys; an unknown ``kid`` triggers one refetch (rotation)."""

    def __init__(self, url: str, *, ttl_seconds: int = 3600) -> None:
        self.url = url
        self.ttl = ttl_seconds
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched = 0.0

    async def _refresh(self) -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(self.url)
            response.raise_for_status()
        self._keys = {k["kid"]: k for k in response.json().get("keys", []) if "kid" in k}
        self._fetched = time.monotonic()

    async def key(self, kid: str) -> dict[str, Any]:
        if not self._keys or time.monotonic() - self._fetched > self.ttl:
            await self._refresh()
        if kid not in self._keys:
            await self._refresh()
        if kid not in self._keys:
            raise InvalidToken("unknown signing key")
        return self._keys[kid]


class StaffTokenVerifier:
    """Verifies staff JWTs: local HS256 tokens in development, the OIDC issuer's in production."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.jwks = JwksCache(settings.oidc_jwks_url) if settings.oidc_jwks_url else None

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except JWTError as exc:
            raise InvalidToken("malformed token") from exc
        alg = header.get("alg")
        if self.jwks is not None and alg in REMOTE_ALGORITHMS:
            key: Any = await self.jwks.key(str(header.get("kid", "")))
            claims = self._decode(token, key, [str(alg)], self.settings.oidc_issuer)
        elif alg in LOCAL_ALGORITHMS and self.settings.env != "production":
            assert self.settings.signing_key is not None
            secret = self.settings.signing_key.get_secret_value()
            claims = self._decode(token, secret, LOCAL_ALGORITHMS, LOCAL_ISSUER)
        else:
            raise InvalidToken("token algorithm not accepted")
        return Principal(kind="staff", id=str(claims.get("sub", "")), roles=self._roles(claims))

    def _decode(self, token: str, key: Any, algorithms: list[str], issuer: str | None) -> Any:
        try:
            return jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=self.settings.oidc_audience,
                issuer=issuer,
                options={"require_exp": True, "require_sub": True},
            )
        except JWTError as exc:
            raise InvalidToken("token rejected") from exc

    def _roles(self, claims: dict[str, Any]) -> frozenset[Role]:
        raw = claims.get(self.settings.staff_roles_claim, [])
        names = raw.split() if isinstance(raw, str) else raw
        return frozenset(Role(n) for n in names if n in Role.__members__)


API_KEY_PREFIX = "ik"


def split_api_key(key: str) -> tuple[str, str] | None:
    """API keys look like ``ik_<prefix>_<secret>``; the prefix finds the row."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]
