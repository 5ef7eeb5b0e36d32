"""Every console address asks for a log-in before it shows or does anything, and log-out ends
the session in the browser."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

from app.domain.requests import Role
from app.web.console import actions, oidc, overviews, queue, request_page, routes

# Addresses that are themselves the way in, or only send the browser back to a page.
OPEN = {"/console/login", "/console/login/start", "/console/login/callback", "/console/login/local"}
BACK = "/console/requests/{request_id}/{action:path}"


def _console_routes() -> list[tuple[str, str]]:
    found = []
    every = [
        r for m in (actions, oidc, overviews, queue, request_page, routes) for r in m.router.routes
    ]
    for route in every:
        if isinstance(route, APIRoute):
            assert route.path.startswith("/console")
            for method in route.methods:
                if route.path not in OPEN and not (route.path == BACK and method == "GET"):
                    found.append((method, route.path))
    return found


def _filled(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x_1", path)


async def test_every_console_address_needs_a_log_in(console):
    routes = _console_routes()
    assert len(routes) > 20
    console.client.cookies.delete("innsyn_console", path="/console")
    for method, path in routes:
        data = {"csrf_token": console.csrf()} if method == "POST" else None
        answer = await console.client.request(method, _filled(path), data=data)
        assert answer.status_code == 303, (method, path, answer.status_code)
        assert answer.headers["location"].startswith("/console/login"), (method, path)


async def test_an_auditor_may_post_nothing(console):
    await console.login(Role.auditor)
    for method, path in _console_routes():
        if method == "POST" and path != "/console/logout":
            answer = await console.post(_filled(path))
            assert answer.status_code == 403, (path, answer.status_code)


async def test_log_out_ends_the_session_in_the_browser(console):
    await console.login(Role.operator)
    assert (await console.client.get("/console/")).status_code == 200
    forged = await console.client.post("/console/logout", data={})
    assert forged.status_code == 403  # a cross-site page cannot log staff out
    out = await console.post("/console/logout")
    assert out.status_code == 303
    cleared = out.headers["set-cookie"]
    assert "innsyn_console=" in cleared and "Path=/console" in cleared
    assert "Max-Age=0" in cleared or "expires=Thu, 01 Jan 1970" in cleared
    answer = await console.client.get("/console/")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/console/login")


async def test_a_copy_of_the_session_cookie_is_refused_after_log_out(console):
    await console.login(Role.operator)
    stolen = console.client.cookies.get("innsyn_console", path="/console")
    assert stolen
    assert (await console.post("/console/logout")).status_code == 303
    console.client.cookies.set("innsyn_console", stolen, domain="innsyn.test", path="/console")
    answer = await console.client.get("/console/")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/console/login")
