"""Every cookie the pages set is HttpOnly, Secure over HTTPS and scoped; a log-in gets a new
form-token cookie; a refused form's uploaded files are closed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.datastructures import UploadFile

from app.domain.requests import Role
from app.main import create_app
from tests.web.centre.helpers import csrf_of


@pytest.fixture
async def https_client(runtime) -> AsyncIterator[httpx.AsyncClient]:
    runtime.settings.console_local_login = True
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="https://innsyn.test") as client:
        yield client


def _set_cookies(answer: httpx.Response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in answer.headers.get_list("set-cookie")}


async def test_every_cookie_is_http_only_and_secure_over_https(https_client):
    seen: dict[str, str] = {}
    form = await https_client.get("/personvern/?lang=en")
    seen |= _set_cookies(form)
    filed = await https_client.post(
        "/personvern/",
        data={
            "csrf_token": csrf_of(form.text),
            "right": "access",
            "email": "ola.nordmann@example.no",
            "name": "Ola Nordmann",
        },
    )
    seen |= _set_cookies(filed)
    login = await https_client.get("/console/login")
    done = await https_client.post(
        "/console/login/local",
        data={"csrf_token": csrf_of(login.text), "role": "operator", "next": "/console/"},
    )
    seen |= _set_cookies(done)
    assert {"innsyn_lang", "innsyn_csrf", "innsyn_requests", "innsyn_console"} <= set(seen)
    for header in seen.values():
        lowered = header.lower()
        assert "httponly" in lowered and "secure" in lowered, header
        assert "samesite=" in lowered, header
    assert "Path=/personvern" in seen["innsyn_requests"]
    assert "Path=/console" in seen["innsyn_console"]


async def test_a_log_in_gets_a_new_form_token_cookie(https_client):
    login = await https_client.get("/console/login")
    before = https_client.cookies.get("innsyn_csrf")
    done = await https_client.post(
        "/console/login/local",
        data={"csrf_token": csrf_of(login.text), "role": Role.operator.value},
    )
    assert done.status_code == 303
    assert "innsyn_csrf" in _set_cookies(done)
    assert https_client.cookies.get("innsyn_csrf") not in (None, before)
    page = await https_client.get("/console/")
    assert page.status_code == 200


async def test_a_refused_forms_files_are_closed(client, monkeypatch):
    closed: list[str | None] = []
    original = UploadFile.close

    async def close(self: UploadFile) -> None:
        closed.append(self.filename)
        await original(self)

    monkeypatch.setattr(UploadFile, "close", close)
    await client.get("/personvern/")
    refused = await client.post(
        "/personvern/",
        data={"csrf_token": "forged"},
        files={"file": ("scan.pdf", b"%PDF-1.4 " + b"x" * 2000, "application/pdf")},
    )
    assert refused.status_code == 403
    assert closed == ["scan.pdf"]
