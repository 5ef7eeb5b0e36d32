"""A console in a test: the app on the test runtime, a browser-like client that logs in
with the development log-in, and requests filed through the API like staff file them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.domain.requests import Role
from app.main import create_app
from app.runtime import Runtime
from app.web.render import Pages

OLA = {"email": "ola.nordmann@example.no", "national_id": "30108299920", "name": "Ola Nordmann"}


@dataclass
class Console:
    client: httpx.AsyncClient
    pages: Pages

    def csrf(self) -> str:
        cookie = self.client.cookies.get("innsyn_csrf")
        assert cookie, "open a page first"
        return self.pages.csrf._mac(cookie)

    async def login(self, *roles: Role) -> None:
        self.client.cookies.clear()
        await self.client.get("/console/login")
        done = await self.client.post(
            "/console/login/local",
            data={"csrf_token": self.csrf(), "role": [r.value for r in roles], "next": "/"},
        )
        assert done.status_code == 303, done.text

    async def post(
        self, path: str, data: dict[str, Any] | None = None, **kw: Any
    ) -> httpx.Response:
        """A form post with this browser's CSRF token."""
        return await self.client.post(path, data={"csrf_token": self.csrf(), **(data or {})}, **kw)

    async def page(self, path: str, **params: str) -> httpx.Response:
        answer = await self.client.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer


@pytest.fixture
async def console(runtime: Runtime) -> AsyncIterator[Console]:
    runtime.settings.console_local_login = True
    app = create_app(runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://innsyn.test") as client:
        await client.get("/console/login")
        yield Console(client=client, pages=app.state.pages)


async def file_request(
    client: httpx.AsyncClient,
    staff: dict[str, dict[str, str]],
    kind: str = "access",
    subject: dict[str, str] | None = None,
    *,
    verified: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    """A request filed through the API by an operator (attested, unless ``verified`` is off)."""
    body: dict[str, Any] = {"kind": kind, "subject": subject or OLA, "language": "nb", **extra}
    if verified:
        body["verification"] = {"method": "staff", "note": "checked in person"}
    created = await client.post("/v1/requests", json=body, headers=staff["operator"])
    assert created.status_code == 201, created.text
    return dict(created.json())
