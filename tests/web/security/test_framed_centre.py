"""The privacy centre inside a frame on the company's site (``frame_ancestors`` set): its
cookies are SameSite=None and Secure (the only ones a frame sends back), every page the person
meets after the form may be shown in that frame and by no other site, and the console never
may be framed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.main import create_app
from tests.web.centre.helpers import csrf_of, last_code

SITE = "https://www.example.no"
OLA = {"right": "access", "email": "ola.nordmann@example.no", "name": "Ola Nordmann"}


@pytest.fixture
async def framed(runtime) -> AsyncIterator[httpx.AsyncClient]:
    runtime.settings.frame_ancestors = [SITE]
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="https://innsyn.test") as client:
        yield client


def _framable(answer: httpx.Response) -> bool:
    csp = answer.headers["content-security-policy"]
    assert "frame-ancestors" in csp
    return f"frame-ancestors {SITE}" in csp


def _cookies(answer: httpx.Response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h.lower() for h in answer.headers.get_list("set-cookie")}


async def test_the_framed_centre_sets_cookies_a_frame_sends_back(framed, settings):
    form = await framed.get("/personvern/")
    assert _framable(form)
    csrf = _cookies(form)["innsyn_csrf"]
    assert "samesite=none" in csrf and "secure" in csrf and "httponly" in csrf
    filed = await framed.post("/personvern/", data={"csrf_token": csrf_of(form.text), **OLA})
    assert filed.status_code == 303 and _framable(filed)
    held = _cookies(filed)["innsyn_requests"]
    assert "samesite=none" in held and "secure" in held and "path=/personvern" in held

    code_page = await framed.get(filed.headers["location"])
    assert code_page.status_code == 200 and _framable(code_page)
    done = await framed.post(
        filed.headers["location"],
        data={"csrf_token": csrf_of(code_page.text), "code": last_code(Path(settings.outbox_dir))},
    )
    assert done.status_code == 303
    status = await framed.get(done.headers["location"])
    assert status.status_code == 200 and _framable(status)
    forged = await framed.post(filed.headers["location"], data={"code": "123456"})
    assert forged.status_code == 403 and _framable(forged)
    unknown = await framed.get("/personvern/answers/" + "x" * 20)
    assert unknown.status_code == 404 and _framable(unknown)


async def test_the_console_is_never_framed(framed):
    login = await framed.get("/console/login")
    assert "frame-ancestors 'none'" in login.headers["content-security-policy"]
    forged = await framed.post("/console/logout", data={})
    assert "frame-ancestors 'none'" in forged.headers["content-security-policy"]
