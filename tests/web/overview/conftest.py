"""Overview pages are read the way staff read them: logged in through the local log-in form
(development), on the same app and database the API calls of the test write to."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from app.main import create_app

LogIn = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def console(runtime) -> AsyncIterator[LogIn]:
    """``await console("auditor")``: a client logged in with those roles."""
    runtime.settings.env = "development"
    app = create_app(runtime=runtime)
    opened: list[httpx.AsyncClient] = []

    async def log_in(*roles: str) -> httpx.AsyncClient:
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://innsyn.test"
        )
        opened.append(client)
        login = await client.get("/console/login")
        token = login.text.split('name="csrf_token" value="')[1].split('"')[0]
        done = await client.post(
            "/console/login/local", data={"csrf_token": token, "role": list(roles)}
        )
        assert done.status_code == 303, done.text
        return client

    yield log_in
    for client in opened:
        await client.aclose()
