""" "Bekreft med ID-porten": the authorization-code flow with PKCE (S256), a nonce and a
state against a real OpenID issuer on loopback, which checks the verifier and signs a real
ID token; the request is then filed and verified with it as the API verifies any ID token.
A wrong state, nonce or verifier, a login as someone else, or another browser is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from app.main import create_app
from app.security import IdTokenVerifier
from app.web.centre.idporten import COOKIE, challenge
from tests.security.oidc_issuer import Issuer, served_issuer  # noqa: F401 (the fixture)
from tests.web.centre.helpers import csrf_of

OLA = {"right": "access", "email": "ola.nordmann@example.no", "name": "Ola Nordmann"}
OLA_ID = "30108299920"
KARI_ID = "02013299997"


@pytest.fixture
async def centre(runtime, issuer) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the person's issuer configured, as a browser at http://innsyn.test."""
    issuer.login_claims = {"pid": OLA_ID}
    issuer.client_secret = None
    runtime.settings.oidc_issuer = issuer.url
    runtime.settings.oidc_audience = issuer.audience
    runtime.settings.public_base_url = "http://innsyn.test"
    runtime.id_tokens = IdTokenVerifier(runtime.settings)
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://innsyn.test") as client:
        yield client


async def _to_issuer(client: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
    page = await client.get("/personvern/")
    assert "Bekreft med ID-porten" in page.text
    return await client.post(
        "/personvern/", data={"csrf_token": csrf_of(page.text), "confirm": "idporten", **form}
    )


async def _log_in(authorize_url: str) -> str:
    """The person logs in at the issuer (over real HTTP); it sends them back with a code."""
    async with httpx.AsyncClient() as browser:
        back = await browser.get(authorize_url)
    assert back.status_code == 302, back.text
    location = back.headers["location"]
    assert location.startswith("http://innsyn.test/personvern/callback?")
    return location.removeprefix("http://innsyn.test")


async def test_logging_in_files_a_verified_request(centre, issuer, staff):
    sent = await _to_issuer(centre, OLA | {"national_id": OLA_ID})
    assert sent.status_code == 303
    authorize = urlsplit(sent.headers["location"])
    assert f"{authorize.scheme}://{authorize.netloc}" == issuer.url
    asked = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    assert asked["code_challenge_method"] == "S256" and asked["client_id"] == issuer.audience
    assert asked["redirect_uri"] == "http://innsyn.test/personvern/callback"
    assert asked["nonce"] and asked["state"] and asked["scope"] == "openid"
    cookie = sent.headers["set-cookie"]
    assert COOKIE in cookie and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert OLA["email"] not in cookie and OLA_ID not in cookie  # sealed, not just signed

    done = await centre.get(await _log_in(sent.headers["location"]))
    assert done.status_code == 303, done.text
    exchange = issuer.token_requests[-1]
    assert challenge(exchange["code_verifier"]) == asked["code_challenge"]
    status_url = done.headers["location"]
    request_id = status_url.split("/")[3]
    view = (await centre.get(f"/v1/requests/{request_id}", headers=staff["operator"])).json()
    assert view["verification"]["method"] == "oidc" and view["status"] != "received"
    assert "national_id" in view["identity"]["proven"]
    status = await centre.get(status_url)
    assert status.status_code == 200
    assert "Skriv inn koden" not in status.text


async def test_the_client_secret_is_sent_when_configured(centre, issuer, runtime):
    issuer.client_secret = "s3cret"
    runtime.settings.oidc_client_secret = SecretStr("s3cret")
    sent = await _to_issuer(centre, OLA)
    assert (await centre.get(await _log_in(sent.headers["location"]))).status_code == 303


async def test_a_wrong_state_is_refused(centre):
    sent = await _to_issuer(centre, OLA)
    back = await _log_in(sent.headers["location"])
    forged = back.replace("state=", "state=x")
    refused = await centre.get(forged)
    assert refused.status_code == 400 and "tok for lang tid" in refused.text
    assert 'value="ola.nordmann@example.no"' in refused.text  # the form comes back filled in


async def test_a_wrong_verifier_is_refused_by_the_issuer(centre, issuer):
    sent = await _to_issuer(centre, OLA)
    back = await _log_in(sent.headers["location"])
    code = parse_qs(urlsplit(back).query)["code"][0]
    issuer.codes[code]["challenge"] = challenge("another-verifier")
    refused = await centre.get(back)
    assert refused.status_code == 400 and "fikk ikke bekreftet" in refused.text


async def test_a_wrong_nonce_is_refused_and_audited(centre, issuer, runtime, staff):
    issuer.login_claims = {"pid": OLA_ID, "nonce": "not-the-one-sent"}
    sent = await _to_issuer(centre, OLA)
    refused = await centre.get(await _log_in(sent.headers["location"]))
    assert refused.status_code == 400 and "fikk ikke bekreftet" in refused.text
    events = (await centre.get("/v1/audit", headers=staff["auditor"])).json()["items"]
    assert "verification.id_token_rejected" in [e["action"] for e in events]
    listed = (await centre.get("/v1/requests", headers=staff["operator"])).json()["items"]
    assert listed == []  # nothing was filed


async def test_logging_in_as_someone_else_is_refused(centre, issuer):
    issuer.login_claims = {"pid": KARI_ID}
    sent = await _to_issuer(centre, OLA | {"national_id": OLA_ID})
    refused = await centre.get(await _log_in(sent.headers["location"]))
    assert refused.status_code == 400 and "en annen person" in refused.text


async def test_the_way_back_needs_the_browser_that_left(centre, runtime):
    sent = await _to_issuer(centre, OLA)
    back = await _log_in(sent.headers["location"])
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://innsyn.test") as other:
        refused = await other.get(back)
    assert refused.status_code == 400 and "tok for lang tid" in refused.text
