"""Who is using the console: a signed session cookie made at log-in, holding the staff
member's id and roles for ``token_ttl_minutes``. Pages ask for roles with ``staff_page``,
which uses the same role check as the API (``Principal.has_any``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response

from app.domain.requests import Role
from app.security import Principal
from app.web.cookies import SignedCookie
from app.web.forms import PagesDep
from app.web.keys import derive
from app.web.render import Pages

COOKIE = "innsyn_console"
PATH = "/console"


class LoginNeeded(Exception):
    """No valid session: the page sends the browser to the log-in page, then back."""

    def __init__(self, back: str) -> None:
        self.back = back


class RoleMissing(Exception):
    """Logged in, but without a role this page or action needs."""

    def __init__(self, roles: frozenset[Role]) -> None:
        self.roles = roles


def session_cookie(pages: Pages) -> SignedCookie:
    settings = pages.settings
    assert settings.data_key is not None
    return SignedCookie(
        derive(settings.data_key.get_secret_value(), "console-session"),
        COOKIE,
        max_age=60 * settings.token_ttl_minutes,
        salt="console-session",
    )


def start_session(pages: Pages, request: Request, response: Response, principal: Principal) -> None:
    """After a verified log-in: the cookie names who and which roles, and when it ends; the
    form-token cookie is made anew."""
    ends = int(time.time()) + 60 * pages.settings.token_ttl_minutes
    value = {"sub": principal.id, "roles": sorted(r.value for r in principal.roles), "ends": ends}
    session_cookie(pages).store(response, request, value, same_site="strict", path=PATH)
    pages.csrf.renew(request, response)


def end_session(pages: Pages, response: Response) -> None:
    session_cookie(pages).clear(response, path=PATH)


def current_staff(pages: Pages, request: Request) -> Principal | None:
    value = session_cookie(pages).load(request)
    if value is None or int(value.get("ends", 0)) < time.time():
        return None
    roles = value.get("roles")
    if not isinstance(roles, list) or not all(r in Role.__members__ for r in roles):
        return None
    return Principal(
        kind="staff", id=str(value.get("sub")), roles=frozenset(Role(r) for r in roles)
    )


def staff_page(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency: the logged-in staff member, holding one of ``roles`` (admin always;
    no roles named: any staff role)."""
    wanted = frozenset(roles or Role)

    async def dependency(request: Request, pages: PagesDep) -> Principal:
        principal = current_staff(pages, request)
        if principal is None:
            back = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginNeeded(back)
        if not principal.has_any(wanted):
            raise RoleMissing(wanted)
        return principal

    return dependency


def safe_next(back: str) -> str:
    """Where to go after log-in: a path on the console, never another site (open redirect)."""
    ok = back.startswith(PATH + "/") and "\\" not in back and "//" not in back
    return back if ok else PATH + "/"


def login_url(back: str) -> str:
    return f"{PATH}/login?next={quote(safe_next(back), safe='/?=&')}"


StaffPage = Annotated[Principal, Depends(staff_page())]
