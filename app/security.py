"""Staff tokens and form API keys. Every JWT call lives here, with an explicit algorithm list."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from cachetools import TLRUCache
from jose import jwt

from app.domain.requests import Role
from app.settings import Settings

LOCAL_ISSUER = "innsyn-local"
LOCAL_ALGORITHMS = ["HS256"]
# Only what python-jose verifies with its cryptography backend: it has no RSASSA-PSS (PS*)
# and no EdDSA. Each entry is tested with a real key in tests/security/test_staff_tokens.py.
REMOTE_ALGORITHMS = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]
_KEY_TYPES = {"RS": "RSA", "ES": "EC"}
# Every claim a staff token must carry; python-jose skips the audience and issuer checks when
# the claim is absent unless told to require it.
_STAFF_REQUIRED = {f"require_{c}": True for c in ("exp", "sub", "aud", "iss")}


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
        "aud": settings.staff_audience,
        "sub": subject,
        settings.staff_roles_claim: [r.value for r in roles],
        "iat": now,
        "nbf": now,
        "exp": now + 60 * (ttl_minutes or settings.token_ttl_minutes),
    }
    return str(jwt.encode(claims, settings.signing_key.get_secret_value(), algorithm="HS256"))


class JwksCache:
    """Caches an issuer's signing keys. An unknown ``kid`` triggers one refetch (key rotation),
    at most once per ``min_refetch_seconds`` so forged kids cannot hammer the issuer."""

    def __init__(
        self,
        url: str | None = None,
        *,
        issuer: str | None = None,
        ttl_seconds: int = 3600,
        min_refetch_seconds: float = 10.0,
    ) -> None:
        self.url = url
        self.issuer = issuer
        self.ttl = ttl_seconds
        self.min_refetch = min_refetch_seconds
        self._keys: dict[str, dict[str, Any]] = {}
        self._fetched = float("-inf")

    async def _jwks_url(self, client: httpx.AsyncClient) -> str:
        if self.url is None:
            assert self.issuer is not None
            discovery = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
            response = await client.get(discovery)
            response.raise_for_status()
            self.url = str(response.json()["jwks_uri"])
        return self.url

    async def _refresh(self) -> None:
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(await self._jwks_url(client))
                response.raise_for_status()
                keys = response.json().get("keys", [])
            self._keys = {str(k["kid"]): k for k in keys if isinstance(k, dict) and "kid" in k}
        except (httpx.HTTPError, KeyError, ValueError, TypeError, AttributeError) as exc:
            raise InvalidToken("the issuer's signing keys could not be fetched") from exc
        self._fetched = time.monotonic()

    async def key(self, kid: str) -> dict[str, Any]:
        age = time.monotonic() - self._fetched
        if age > self.ttl or (kid not in self._keys and age > self.min_refetch):
            await self._refresh()
        if kid not in self._keys:
            raise InvalidToken("unknown signing key")
        return self._keys[kid]


# A dashboard or a client polling with one token presents the same string again and again:
# its signature and claims are checked once, and the result kept until the token expires, at
# most this long (a key the issuer withdraws is not trusted for longer than this).
VERIFIED_FOR_SECONDS = 60.0
VERIFIED_TOKENS_KEPT = 4096


def _kept_until(_token: str, verified: tuple[Principal, float], now: float) -> float:
    return min(verified[1], now + VERIFIED_FOR_SECONDS)


class StaffTokenVerifier:
    """Verifies staff JWTs: local HS256 tokens in development, the OIDC issuer's in production."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # Keyed by the whole token: another string, even one byte off, is verified afresh.
        self._verified: TLRUCache[str, tuple[Principal, float]] = TLRUCache(
            maxsize=VERIFIED_TOKENS_KEPT, ttu=_kept_until, timer=time.time
        )
        # No issuer, no remote tokens: keys alone would accept whatever they signed, for anyone.
        self.jwks = (
            JwksCache(settings.staff_jwks_url, issuer=settings.staff_issuer)
            if settings.staff_issuer
            else None
        )

    async def verify(self, token: str) -> Principal:
        """The caller the token names, once its signature, issuer, audience and times hold."""
        kept = self._verified.get(token)
        if kept is not None:
            return kept[0]
        principal, expires = await self._verify(token)
        if expires > time.time():
            self._verified[token] = (principal, expires)
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float]:
        header = unverified_header(token)
        alg = header.get("alg")
        if self.jwks is not None and self.settings.staff_issuer and alg in REMOTE_ALGORITHMS:
            key = matching_key(await self.jwks.key(str(header.get("kid", ""))), str(alg))
            claims = self._decode(token, key, [str(alg)], self.settings.staff_issuer)
        elif alg in LOCAL_ALGORITHMS and self.settings.env != "production":
            assert self.settings.signing_key is not None
            secret = self.settings.signing_key.get_secret_value()
            claims = self._decode(token, secret, LOCAL_ALGORITHMS, LOCAL_ISSUER)
        else:
            raise InvalidToken("token algorithm not accepted")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject.strip():
            raise InvalidToken("the token's subject is empty")
        expires = claims.get("exp")
        principal = Principal(kind="staff", id=subject, roles=self._roles(claims))
        return principal, float(expires) if isinstance(expires, (int, float)) else 0.0

    def _decode(self, token: str, key: Any, algorithms: list[str], issuer: str) -> dict[str, Any]:
        return decode(
            token,
            key,
            algorithms=algorithms,
            audience=self.settings.staff_audience,
            issuer=issuer,
            options=_STAFF_REQUIRED,
        )

    def _roles(self, claims: dict[str, Any]) -> frozenset[Role]:
        """A list of known role names; anything else (a number, a nested list, a role this
        service does not know) makes the whole token invalid rather than guessing."""
        raw = claims.get(self.settings.staff_roles_claim, [])
        if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
            raise InvalidToken("the token's roles must be a list of role names")
        unknown = [n for n in raw if n not in Role.__members__]
        if unknown:
            raise InvalidToken("the token names a role this service does not know")
        return frozenset(Role(n) for n in raw)


def unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, or ``InvalidToken`` however the token is malformed."""
    try:
        header = jwt.get_unverified_header(token)
    except Exception as exc:  # any parse failure is a bad token, never a 500
        raise InvalidToken("malformed token") from exc
    if not isinstance(header, dict):
        raise InvalidToken("malformed token")
    return header


def matching_key(key: dict[str, Any], alg: str) -> dict[str, Any]:
    """The JWKS key, if its type and declared algorithm fit ``alg`` (no algorithm confusion)."""
    if key.get("kty") != _KEY_TYPES.get(alg[:2]) or key.get("alg") not in (None, alg):
        raise InvalidToken("token algorithm does not match its key")
    return key


def decode(
    token: str,
    key: Any,
    *,
    algorithms: list[str],
    audience: str | None,
    issuer: str,
    options: dict[str, bool],
) -> dict[str, Any]:
    """``jwt.decode`` with every failure as ``InvalidToken``: python-jose raises JWTError,
    JWKError, JWSError and, for odd keys and claims, plain ValueError or TypeError."""
    try:
        claims = jwt.decode(
            token, key, algorithms=algorithms, audience=audience, issuer=issuer, options=options
        )
    except Exception as exc:  # a token we cannot verify is refused, never a 500
        raise InvalidToken("token rejected") from exc
    if not isinstance(claims, dict):
        raise InvalidToken("token rejected")
    return claims


@dataclass(frozen=True)
class VerifiedIdentity:
    """What a verified ID token proves about the person, and what identifies the token."""

    issuer: str
    subject: str
    national_id: str | None
    email: str | None  # only when the issuer says it verified it (``email_verified``)
    phone: str | None  # only with ``phone_number_verified``
    token_id: str  # ``jti``, or a digest of the token when the issuer sets none
    expires_at: int  # ``exp``: how long the token must be remembered as used
    nonce: str | None = None


class IdTokenVerifier:
    """Verifies the person's OIDC ID token (ID-porten/BankID-style) against the issuer's JWKS."""

    def __init__(self, settings: Settings) -> None:
        assert settings.oidc_issuer is not None
        self.issuer = settings.oidc_issuer
        self.audience = settings.oidc_audience
        self.national_id_claim = settings.oidc_national_id_claim
        self.jwks = JwksCache(settings.oidc_jwks_url, issuer=settings.oidc_issuer)

    async def verify(self, token: str, *, nonce: str | None = None) -> VerifiedIdentity:
        try:
            header = jwt.get_unverified_header(token)
        except Exception as exc:  # any parse failure is a bad token: 422
            raise InvalidToken("malformed ID token") from exc
        alg = header.get("alg")
        if alg not in REMOTE_ALGORITHMS:
            raise InvalidToken("ID token algorithm not accepted")
        key = await self.jwks.key(str(header.get("kid", "")))
        if key.get("alg") not in (None, alg):
            raise InvalidToken("ID token algorithm does not match its key")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[str(alg)],
                audience=self.audience,
                issuer=self.issuer,
                options={
                    "require_exp": True,
                    "require_iat": True,
                    "require_sub": True,
                    "require_aud": True,
                    "require_iss": True,
                },
            )
        except Exception as exc:  # JWKError, JWSError, ValueError...: all 422
            raise InvalidToken("ID token rejected") from exc
        if nonce is not None and claims.get("nonce") != nonce:
            raise InvalidToken("ID token nonce does not match")
        pid = claims.get(self.national_id_claim)
        email = claims.get("email") if claims.get("email_verified") is True else None
        phone = claims.get("phone_number") if claims.get("phone_number_verified") is True else None
        jti = claims.get("jti")
        return VerifiedIdentity(
            issuer=self.issuer,
            subject=str(claims["sub"]),
            national_id=str(pid) if pid is not None else None,
            email=str(email) if email else None,
            phone=str(phone) if phone else None,
            token_id=str(jti) if jti else hashlib.sha256(token.encode()).hexdigest(),
            expires_at=int(claims["exp"]),
            nonce=str(claims["nonce"]) if claims.get("nonce") is not None else None,
        )


API_KEY_PREFIX = "ik"


def split_api_key(key: str) -> tuple[str, str] | None:
    """API keys look like ``ik_<prefix>_<secret>``; the prefix finds the row."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]
