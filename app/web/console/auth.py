"""Who is using the console: a signed session cookie made at log-in, holding the staff
member's id and roles for ``token_ttl_minutes``. Pages ask for roles with ``staff_page``,
which uses the same role check as the API (``Principal.has_any``).

Log-out ends the session on the server too, not only in the browser: each session has a
random id, and log-out records it (in the table of used-up tokens, until the session would
have ended anyway), so a copy of the cookie taken before log-out is refused from then on.
Roles are those of the log-in: a role taken away at the identity provider still holds in a
session already started, until it ends (at most ``token_ttl_minutes``)."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request, Response
from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import UsedIdToken
from app.deps import RuntimeDep
from app.domain.requests import Role
from app.infra.crypto import token_hash
from app.runtime import Runtime
from app.security import Principal
from app.web.cookies import SignedCookie
from app.web.forms import PagesDep
from app.web.keys import derive
from app.web.language import LANGUAGES
from app.web.render import Pages

COOKIE = "innsyn_console"
PATH = "/console"
SESSION = "console-session"
LOGIN = "console-login"


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
    value = {
        "sub": principal.id,
        "roles": sorted(r.value for r in principal.roles),
        "ends": ends,
        "sid": secrets.token_urlsafe(16),
    }
    session_cookie(pages).store(response, request, value, same_site="strict", path=PATH)
    pages.csrf.renew(request, response)


def _used_key(kind: str, value: str) -> str:
    return token_hash(f"{kind}\n{value}")


async def used(session: AsyncSession, kind: str, value: str) -> bool:
    """Whether a session id (``kind`` "console-session") or a staff ID token ("console-login")
    was used up: a session logged out, a token that already started one."""
    return await session.get(UsedIdToken, _used_key(kind, value)) is not None


async def use_up(session: AsyncSession, rt: Runtime, kind: str, value: str, until: float) -> None:
    """Record ``value`` as used up until ``until`` (seconds since the epoch); what expired is
    forgotten on the way."""
    now = rt.clock.now()
    await session.exec(delete(UsedIdToken).where(col(UsedIdToken.expires_at) < now))
    ends = max(now, datetime.fromtimestamp(until, tz=UTC))
    session.add(UsedIdToken(token_hash=_used_key(kind, value), request_id=kind, expires_at=ends))


async def end_session(rt: Runtime, pages: Pages, request: Request, response: Response) -> None:
    """Clear the cookie, and refuse its session id from now on wherever it is presented."""
    value = session_cookie(pages).load(request)
    if value is not None and isinstance(value.get("sid"), str):
        async with rt.db.session() as session:
            if not await used(session, SESSION, value["sid"]):
                await use_up(session, rt, SESSION, value["sid"], float(value.get("ends", 0)))
    session_cookie(pages).clear(response, path=PATH)


def current_staff(pages: Pages, request: Request) -> Principal | None:
    """The staff member the cookie names (signature and end checked; not yet whether the
    session was logged out: ``staff_page`` asks the database)."""
    value = session_cookie(pages).load(request)
    if value is None or int(value.get("ends", 0)) < time.time():
        return None
    if not isinstance(value.get("sid"), str):
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

    async def dependency(request: Request, pages: PagesDep, rt: RuntimeDep) -> Principal:
        principal = current_staff(pages, request)
        if principal is not None:
            sid = str((session_cookie(pages).load(request) or {}).get("sid"))
            async with rt.db.session() as session:
                if await used(session, SESSION, sid):
                    principal = None
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


def login_url(back: str, lang: str | None = None) -> str:
    """The log-in page, then ``back`` (its whole query kept); in ``lang`` when one was chosen."""
    chosen = f"&lang={lang}" if lang in LANGUAGES else ""
    return f"{PATH}/login?next={quote(safe_next(back), safe='/')}{chosen}"


StaffPage = Annotated[Principal, Depends(staff_page())]
