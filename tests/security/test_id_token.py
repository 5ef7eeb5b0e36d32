"""The person's ID token verifies identity at once; every forgery and mistake is refused."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from app.security import IdTokenVerifier
from tests.security.oidc_issuer import Issuer, served_issuer  # noqa: F401 (the fixture)


@pytest.fixture
def oidc_runtime(runtime, issuer):
    settings = runtime.settings.model_copy(
        update={"oidc_issuer": issuer.url, "oidc_audience": issuer.audience}
    )
    runtime.id_tokens = IdTokenVerifier(settings)
    return runtime


async def post(client, headers, token, **extra):
    body = {"kind": "access", "subject": {"email": "kari@example.no"}, "id_token": token} | extra
    return await client.post("/v1/requests", json=body, headers=headers)


async def test_valid_token_verifies_and_sets_national_id(
    client, form_key, oidc_runtime, issuer, staff
):
    token = issuer.token(email="kari@example.no", email_verified=True)
    response = await post(client, form_key, token, id_token_nonce="n-123")
    assert response.status_code == 201, response.text
    created = response.json()
    # No connector configured: nothing was searched, so it waits for staff's statement.
    assert created["status"] == "awaiting_manual"
    assert created["verification"]["method"] == "oidc"
    view = (await client.get(f"/v1/requests/{created['id']}", headers=staff["operator"])).json()
    assert view["subject"]["national_id"] == "30108299920"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(issuer: Issuer) -> str:
    header = _b64(json.dumps({"alg": "none", "kid": issuer.keys[0].kid}).encode())
    return f"{header}.{_b64(json.dumps(issuer.claims()).encode())}."


def _hs256_with_public_key(issuer: Issuer) -> str:
    """The classic algorithm confusion: HMAC keyed with the issuer's public key."""
    key = issuer.keys[0]
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key.kid}).encode())
    payload = _b64(json.dumps(issuer.claims()).encode())
    mac = hmac.new(key.public_pem.encode(), f"{header}.{payload}".encode(), hashlib.sha256)
    return f"{header}.{payload}.{_b64(mac.digest())}"


FORGERIES = {
    "alg-none": _unsigned,
    "hs256-with-public-key": _hs256_with_public_key,
    "forged-kid": lambda i: i.token(i.keys[0]).replace(
        i.token(i.keys[0]).split(".")[0],
        _b64(json.dumps({"alg": "RS256", "kid": "attacker"}).encode()),
    ),
    "expired": lambda i: i.token(exp=int(time.time()) - 60, iat=int(time.time()) - 600),
    "not-yet-valid": lambda i: i.token(nbf=int(time.time()) + 600),
    "wrong-audience": lambda i: i.token(aud="someone-else"),
    "wrong-issuer": lambda i: i.token(iss="https://evil.example"),
    "tampered-payload": lambda i: ".".join(
        [
            i.token().split(".")[0],
            _b64(json.dumps(i.claims(pid="02013299997")).encode()),
            i.token().split(".")[2],
        ]
    ),
    "invalid-national-id": lambda i: i.token(pid="12345678901"),
    "garbage": lambda _i: "not-a-token",
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
async def test_bad_tokens_are_refused_and_nothing_is_filed(
    client, form_key, oidc_runtime, issuer, staff, name
):
    response = await post(client, form_key, FORGERIES[name](issuer))
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "/problems/verification-failed"
    listing = await client.get("/v1/requests", headers=staff["auditor"])
    assert listing.json()["items"] == []


async def test_nonce_must_match_when_given(client, form_key, oidc_runtime, issuer):
    response = await post(client, form_key, issuer.token(), id_token_nonce="other")
    assert response.status_code == 422


async def test_token_for_another_person_than_the_subject_is_refused(
    client, form_key, oidc_runtime, issuer
):
    response = await post(
        client,
        form_key,
        issuer.token(),
        subject={"email": "kari@example.no", "national_id": "02013299997"},
    )
    assert response.status_code == 422
    assert "another person" in response.json()["detail"]


async def test_key_rotation_refetches_once(client, form_key, oidc_runtime, issuer):
    assert (await post(client, form_key, issuer.token())).status_code == 201
    fetched = issuer.jwks_requests
    oidc_runtime.id_tokens.jwks.min_refetch = 0
    new_key = issuer.rotate()
    response = await post(client, form_key, issuer.token(new_key))
    assert response.status_code == 201, response.text
    assert issuer.jwks_requests == fetched + 1


async def test_without_configured_issuer_id_token_is_422(client, form_key, issuer):
    response = await post(client, form_key, issuer.token())
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/validation-error"


def _header_swapped(issuer: Issuer, alg: str) -> str:
    """A real token whose header names another algorithm for the same (RSA) key."""
    _header, payload, signature = issuer.token().split(".")
    header = _b64(json.dumps({"alg": alg, "kid": issuer.keys[0].kid}).encode())
    return f"{header}.{payload}.{signature}"


def _genuine_ps256(issuer: Issuer) -> str:
    """RSASSA-PSS with the issuer's RSA key: python-jose cannot verify it, so it is refused."""
    from tests.security.oidc_issuer import sign

    return sign(issuer.claims(), issuer.keys[0], alg="PS256")


# python-jose raises JWKError or JWSError here, not JWTError: each must still be a 422.
LIBRARY_ERRORS = {
    "es256-header-rsa-key": lambda i: _header_swapped(i, "ES256"),
    "es384-header-rsa-key": lambda i: _header_swapped(i, "ES384"),
    "ps256-header-rsa-key": lambda i: _header_swapped(i, "PS256"),
    "ps256-genuine": _genuine_ps256,
    "header-not-base64": lambda i: "%%%." + i.token().split(".", 1)[1],
}


@pytest.fixture(params=["jwk-with-alg", "jwk-without-alg"])
def published_alg(request, issuer):
    issuer.keys[0].publish_alg = request.param == "jwk-with-alg"
    yield
    issuer.keys[0].publish_alg = True


@pytest.mark.parametrize("name", sorted(LIBRARY_ERRORS))
async def test_library_errors_are_422_and_an_audited_failed_attempt(
    client, form_key, oidc_runtime, issuer, published_alg, name
):
    from sqlmodel import select

    from app.db.models import AuditEvent

    response = await post(client, form_key, LIBRARY_ERRORS[name](issuer))
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "/problems/verification-failed"
    async with oidc_runtime.db.session() as session:
        actions = [e.action for e in await session.exec(select(AuditEvent))]
    assert "verification.id_token_rejected" in actions
