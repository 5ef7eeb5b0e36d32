"""The staff log-in's way back works once: replayed with the flow cookie (even against an
issuer that would let the code work twice), it starts no second session."""

from __future__ import annotations

import httpx

from app.main import create_app
from tests.web.console.test_oidc_login import _to_issuer, browser, issuer

__all__ = ["browser", "issuer"]


async def test_the_way_back_cannot_be_replayed(browser, issuer, runtime):
    issuer.login_claims["jti"] = "one-token"
    back = await _to_issuer(browser)
    flow = browser.cookies.get("innsyn_console_login")
    codes = dict(issuer.codes)
    done = await browser.get(back)
    assert done.status_code == 200, done.text
    issuer.codes.update(codes)  # a lax issuer: the code would work again
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="https://innsyn.test") as thief:
        thief.cookies.set("innsyn_console_login", flow, domain="innsyn.test", path="/console/login")
        replayed = await thief.get(back)
        assert replayed.status_code == 400
        assert "innsyn_console=" not in str(replayed.headers.get_list("set-cookie"))
        assert (await thief.get("/console/")).status_code == 303
