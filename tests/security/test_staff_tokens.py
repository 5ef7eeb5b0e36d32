"""Staff JWTs: forged, odd and foreign tokens are a 401 problem, never a 500 and never a pass.

The company's issuer is real: keys generated here, discovery and JWKS served over HTTP on
loopback. The same table runs against a development configuration (local HS256 key and the
issuer) and a production one (the issuer only).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from app.domain.requests import Role
from app.security import REMOTE_ALGORITHMS, InvalidToken, StaffTokenVerifier, issue_local_token
from app.settings import Settings
from tests.conftest import DATA_KEY, SIGNING_KEY
from tests.security.oidc_issuer import Issuer, SigningKey, sign

AUDIENCE = "innsyn"


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    issuer = Issuer()
    for alg in REMOTE_ALGORITHMS[1:]:  # keys[0] is the RS256 key
        issuer.rotate(alg)
    issuer.rotate("PS256")
    with issuer.served():
        yield issuer


def key_for(issuer: Issuer, alg: str) -> SigningKey:
    return next(k for k in issuer.keys if k.alg == alg)


def claims(issuer: Issuer, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": issuer.url,
        "aud": AUDIENCE,
        "sub": "kari.operator",
        "roles": ["operator"],
        "iat": now,
        "nbf": now,
        "exp": now + 300,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def remote(issuer: Issuer, alg: str = "RS256", **overrides: Any) -> str:
    return sign(claims(issuer, **overrides), key_for(issuer, alg))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _with_header(token: str, header: dict[str, Any]) -> str:
    _old, payload, signature = token.split(".")
    return f"{_b64(json.dumps(header).encode())}.{payload}.{signature}"


def _local(settings: Settings, **overrides: Any) -> str:
    """A token signed with the development key, with claims changed or removed (None)."""
    from jose import jwt

    token = issue_local_token(settings, subject="kari.operator", roles=[])
    payload = jwt.get_unverified_claims(token) | {"roles": ["operator"]} | overrides
    payload = {k: v for k, v in payload.items() if v is not None}
    assert settings.signing_key is not None
    return str(jwt.encode(payload, settings.signing_key.get_secret_value(), algorithm="HS256"))


def _hs256_with_public_key(issuer: Issuer, _settings: Settings) -> str:
    key = issuer.keys[0]
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode())
    payload = _b64(json.dumps(claims(issuer)).encode())
    mac = hmac.new(key.public_pem.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{_b64(mac.digest())}"


def _unsigned(issuer: Issuer, _settings: Settings) -> str:
    header = _b64(json.dumps({"alg": "none", "kid": issuer.keys[0].kid}).encode())
    return f"{header}.{_b64(json.dumps(claims(issuer, roles=['admin'])).encode())}."


Forgery = Callable[[Issuer, Settings], str]

# name -> how to make it; every one must be a 401 problem in every configuration.
FORGERIES: dict[str, Forgery] = {
    # the issuer's own keys, claims missing or wrong
    "remote-no-aud": lambda i, _s: remote(i, aud=None),
    "remote-no-iss": lambda i, _s: remote(i, iss=None),
    "remote-other-issuer": lambda i, _s: remote(i, iss="https://evil.example"),
    "remote-other-audience": lambda i, _s: remote(i, aud="another-client"),
    "remote-no-sub": lambda i, _s: remote(i, sub=None),
    "remote-empty-sub": lambda i, _s: remote(i, sub=""),
    "remote-blank-sub": lambda i, _s: remote(i, sub="   "),
    "remote-sub-not-a-string": lambda i, _s: remote(i, sub=42),
    "remote-roles-integer": lambda i, _s: remote(i, roles=7),
    "remote-roles-nested-list": lambda i, _s: remote(i, roles=[["admin"]]),
    "remote-roles-object": lambda i, _s: remote(i, roles={"admin": True}),
    "remote-roles-unknown": lambda i, _s: remote(i, roles=["operator", "superuser"]),
    "remote-roles-as-string": lambda i, _s: remote(i, roles="admin"),
    "remote-expired": lambda i, _s: remote(i, exp=int(time.time()) - 60),
    "remote-no-exp": lambda i, _s: remote(i, exp=None),
    # headers that make the library raise something other than JWTError
    "es256-header-rsa-kid": lambda i, _s: _with_header(
        remote(i), {"alg": "ES256", "kid": i.keys[0].kid}
    ),
    "es384-header-rsa-kid": lambda i, _s: _with_header(
        remote(i), {"alg": "ES384", "kid": i.keys[0].kid}
    ),
    "rs256-header-ec-kid": lambda i, _s: _with_header(
        remote(i, "ES256"), {"alg": "RS256", "kid": key_for(i, "ES256").kid}
    ),
    "ps256-header-rsa-kid": lambda i, _s: _with_header(
        remote(i), {"alg": "PS256", "kid": i.keys[0].kid}
    ),
    "ps256-genuine": lambda i, _s: remote(i, "PS256"),
    "header-not-an-object": lambda i, _s: f"{_b64(b'[1]')}.{remote(i).split('.', 1)[1]}",
    "kid-not-a-string": lambda i, _s: _with_header(remote(i), {"alg": "RS256", "kid": ["x"]}),
    "unknown-kid": lambda i, _s: _with_header(remote(i), {"alg": "RS256", "kid": "attacker"}),
    "alg-none": _unsigned,
    "hs256-keyed-with-public-key": _hs256_with_public_key,
    "garbage": lambda _i, _s: "not-a-token",
    "three-dots": lambda _i, _s: "a.b.c",
    # the local development key, claims missing or wrong
    "local-no-aud": lambda _i, s: _local(s, aud=None),
    "local-no-iss": lambda _i, s: _local(s, iss=None),
    "local-other-issuer": lambda _i, s: _local(s, iss="someone"),
    "local-empty-sub": lambda _i, s: _local(s, sub=""),
    "local-roles-integer": lambda _i, s: _local(s, roles=1),
    "local-roles-nested-list": lambda _i, s: _local(s, roles=[["admin"]]),
}


def _settings(base: Settings, issuer: Issuer, mode: str) -> Settings:
    remote_ = {"staff_issuer": issuer.url, "staff_jwks_url": f"{issuer.url}/jwks"}
    if mode == "development":
        return base.model_copy(update={"env": "development", **remote_})
    if mode == "development-local-only":
        return base.model_copy(update={"env": "development"})
    return base.model_copy(update={"env": "production", **remote_})


MODES = ("development", "development-local-only", "production")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(FORGERIES))
async def test_forged_staff_tokens_are_401(client, runtime, issuer, mode, name):
    runtime.tokens = StaffTokenVerifier(_settings(runtime.settings, issuer, mode))
    token = FORGERIES[name](issuer, runtime.settings)
    response = await client.get("/v1/requests", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "/problems/unauthorized"


@pytest.mark.parametrize("mode", ["development", "production"])
@pytest.mark.parametrize("alg", REMOTE_ALGORITHMS)
async def test_every_allowed_algorithm_verifies_a_real_token(client, runtime, issuer, mode, alg):
    runtime.tokens = StaffTokenVerifier(_settings(runtime.settings, issuer, mode))
    token = remote(issuer, alg)
    response = await client.get("/v1/requests", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


async def test_local_token_works_in_development_and_not_in_production(client, runtime, issuer):
    token = _local(runtime.settings)
    headers = {"Authorization": f"Bearer {token}"}
    runtime.tokens = StaffTokenVerifier(_settings(runtime.settings, issuer, "development"))
    assert (await client.get("/v1/requests", headers=headers)).status_code == 200
    runtime.tokens = StaffTokenVerifier(_settings(runtime.settings, issuer, "production"))
    assert (await client.get("/v1/requests", headers=headers)).status_code == 401


async def test_roles_claim_with_a_known_list_gives_exactly_those_roles(client, runtime, issuer):
    runtime.tokens = StaffTokenVerifier(_settings(runtime.settings, issuer, "production"))
    token = remote(issuer, roles=["auditor"])
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/v1/audit", headers=headers)).status_code == 200
    assert (await client.post("/v1/holds", json={}, headers=headers)).status_code == 403


def test_a_jwks_url_without_an_issuer_is_refused_at_startup(tmp_path):
    with pytest.raises(ValidationError) as caught:
        Settings(
            env="production",
            var_dir=tmp_path,
            data_key=DATA_KEY,  # type: ignore[arg-type]
            signing_key=SIGNING_KEY,  # type: ignore[arg-type]
            staff_jwks_url="https://idp.example/jwks",
            _env_file=None,  # type: ignore[call-arg]
        )
    message = str(caught.value)
    assert "INNSYN_STAFF_JWKS_URL" in message and "INNSYN_STAFF_ISSUER" in message
    assert SIGNING_KEY not in message and DATA_KEY not in message


async def test_a_verifier_built_with_keys_but_no_issuer_accepts_no_remote_token(
    client, runtime, issuer
):
    """Defence in depth behind the start-up check: settings copied around it still refuse."""
    keys_only = runtime.settings.model_copy(update={"staff_jwks_url": f"{issuer.url}/jwks"})
    runtime.tokens = StaffTokenVerifier(keys_only)
    for token in (remote(issuer), remote(issuer, iss=None)):
        response = await client.get("/v1/requests", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401


async def test_a_token_seen_before_is_still_refused_once_it_expires(runtime, issuer):
    """Verified tokens are kept for the next call with the same string, never past ``exp``."""
    verifier = StaffTokenVerifier(_settings(runtime.settings, issuer, "production"))
    expires = int(time.time()) + 1
    token = remote(issuer, exp=expires)
    assert (await verifier.verify(token)).roles == {Role.operator}
    assert (await verifier.verify(token)).id == "kari.operator"  # the kept result
    time.sleep(max(0.0, expires + 1 - time.time()) + 0.05)  # the library counts whole seconds
    with pytest.raises(InvalidToken):
        await verifier.verify(token)


async def test_a_kept_token_does_not_vouch_for_one_that_differs_from_it(runtime, issuer):
    verifier = StaffTokenVerifier(_settings(runtime.settings, issuer, "production"))
    token = remote(issuer)
    await verifier.verify(token)
    header, payload, signature = token.split(".")
    forged_payload = _b64(json.dumps(claims(issuer, roles=["admin"])).encode())
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for other in (f"{header}.{forged_payload}.{signature}", f"{header}.{payload}.{flipped}"):
        with pytest.raises(InvalidToken):
            await verifier.verify(other)
        with pytest.raises(InvalidToken):  # a refusal is not kept as a pass either
            await verifier.verify(other)
    assert (await verifier.verify(token)).roles == {Role.operator}
