"""Staff log in with the company's identity provider: a real issuer on loopback, the code
flow with PKCE, state and nonce, the ID token verified like an API bearer token."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from app.main import create_app
from app.security import StaffTokenVerifier
from tests.security.oidc_issuer import Issuer

CLIENT = "innsyn-console"


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    """The company's issuer, with the console registered as a confidential client."""
    issuer = Issuer()
    issuer.audience = CLIENT
    issuer.client_secret = "s3cret"
    with issuer.served() as served:
        yield served


@pytest.fixture
async def browser(runtime, issuer):
    issuer.login_claims = {"sub": "kari.saksbehandler", "roles": ["operator"]}
    runtime.settings.env = "production"
    runtime.settings.staff_issuer = issuer.url
    runtime.settings.staff_audience = CLIENT
    runtime.settings.staff_client_secret = "s3cret"  # type: ignore[assignment]
    runtime.settings = runtime.settings.model_validate(runtime.settings.model_dump())
    runtime.tokens = StaffTokenVerifier(runtime.settings)
    app = create_app(runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="https://innsyn.test") as client:
        yield client


async def _to_issuer(browser: httpx.AsyncClient, back: str = "/console/") -> str:
    """Start the log-in; the browser is sent to the issuer, which sends it back at once."""
    login = await browser.get("/console/login")
    assert "Logg inn med virksomhetens innlogging" in login.text
    assert "Logg inn lokalt" not in login.text
    start = await browser.get("/console/login/start", params={"next": back})
    assert start.status_code == 303
    async with httpx.AsyncClient() as outside:
        approved = await outside.get(start.headers["location"])
    assert approved.status_code == 302, approved.text
    return approved.headers["location"]


async def test_staff_log_in_with_the_company_issuer(browser, issuer):
    back = await _to_issuer(browser, "/console/?kind=erasure")
    asked = issuer.authorize_requests[-1]
    assert asked["code_challenge_method"] == "S256" and len(asked["code_challenge"]) == 43
    assert asked["state"] and asked["nonce"] and asked["state"] != asked["nonce"]
    assert asked["redirect_uri"] == "https://innsyn.test/console/login/callback"
    cookie = browser.cookies.get("innsyn_console_login")
    assert cookie and asked["code_challenge"] not in cookie

    done = await browser.get(back)
    assert done.status_code == 200, done.text
    assert 'content="0; url=/console/?kind=erasure"' in done.text
    session = done.headers.get_list("set-cookie")
    [console] = [c for c in session if c.startswith("innsyn_console=")]
    assert "HttpOnly" in console and "Secure" in console and "SameSite=strict" in console
    assert issuer.token_requests[-1]["code_verifier"]
    queue = await browser.get("/console/")
    assert queue.status_code == 200 and "kari.saksbehandler" in queue.text


async def test_a_callback_from_another_log_in_is_refused(browser, issuer):
    back = await _to_issuer(browser)
    forged = back.replace("state=", "state=x")
    refused = await browser.get(forged)
    assert refused.status_code == 400 and "tok for lang tid" in refused.text
    assert "innsyn_console=" not in str(refused.headers.get_list("set-cookie"))
    assert not issuer.token_requests or issuer.token_requests[-1].get("code") not in back


async def test_a_token_for_another_log_in_is_refused(browser, issuer):
    issuer.login_claims["nonce"] = "from-another-log-in"
    back = await _to_issuer(browser)
    refused = await browser.get(back)
    assert refused.status_code == 400 and "kunne ikke stoles på" in refused.text
    assert (await browser.get("/console/")).status_code == 303


async def test_a_token_signed_by_another_key_is_refused(browser, issuer):
    issuer.login_claims["iss"] = "https://evil.example"
    back = await _to_issuer(browser)
    refused = await browser.get(back)
    assert refused.status_code == 400 and "kunne ikke stoles på" in refused.text


async def test_an_account_without_a_role_is_not_let_in(browser, issuer):
    issuer.login_claims["roles"] = []
    back = await _to_issuer(browser)
    browser.cookies.set("innsyn_lang", "en")
    refused = await browser.get(back)
    assert refused.status_code == 400 and "no role in case handling" in refused.text


async def test_the_code_works_only_with_its_verifier(issuer):
    """The issuer the tests trust checks PKCE: a stolen code without the verifier is useless."""
    async with httpx.AsyncClient() as client:
        approved = await client.get(
            f"{issuer.url}/authorize",
            params={
                "response_type": "code",
                "client_id": CLIENT,
                "scope": "openid",
                "redirect_uri": "https://innsyn.test/console/login/callback",
                "state": "s",
                "nonce": "n",
                "code_challenge": "x" * 43,
                "code_challenge_method": "S256",
            },
        )
        code = parse_qs(urlsplit(approved.headers["location"]).query)["code"][0]
        stolen = await client.post(
            f"{issuer.url}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": "https://innsyn.test/console/login/callback",
                "code_verifier": "guessed",
            },
            auth=(CLIENT, "s3cret"),
        )
    assert stolen.status_code == 400
