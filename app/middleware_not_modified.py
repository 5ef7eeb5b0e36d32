"""ASGI middleware: a dashboard's poll of a request's view, answered 304 before routing.

``GET /v1/requests/{id}`` with ``If-None-Match`` and a staff bearer token is what a
dashboard sends again and again; when the view has not changed, the whole answer is the
view version read by primary key. This layer gives that answer without the router and
the dependency machinery. It only ever answers "not modified", to a caller the route
itself would admit: anything else (no token, a refused token, a missing role, an unknown
request, a changed view, a database error) goes on to the route, which answers it as
always, problem documents included.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp, Receive, Scope, Send

from app.deps import ALL_STAFF
from app.domain.errors import NotFound
from app.runtime import Runtime
from app.security import InvalidToken
from app.services.request_views import etag_matches, view_etag

VIEW_ROUTE = "/v1/requests/{request_id}"
_VIEW_PATH = re.compile(r"/v1/requests/([A-Za-z0-9_-]{1,64})")
_STAFF = frozenset(ALL_STAFF)


class _Route:
    """What the access log reads of a route: its path template."""

    path = VIEW_ROUTE


class NotModified:
    """304 for an unchanged view polled by staff; every other call passes through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            found = _VIEW_PATH.fullmatch(scope["path"])
            etag = await _unchanged(scope, found[1]) if found else None
            if etag is not None:
                scope["route"] = _Route
                await send(
                    {
                        "type": "http.response.start",
                        "status": 304,
                        "headers": [(b"etag", etag.encode())],
                    }
                )
                await send({"type": "http.response.body", "body": b""})
                return
        await self.app(scope, receive, send)


async def _unchanged(scope: Scope, request_id: str) -> str | None:
    """The view's ETag when the caller may read the view and already holds this version."""
    authorization = if_none_match = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            authorization = value
        elif name == b"if-none-match":
            if_none_match = value
    if authorization is None or if_none_match is None:
        return None
    scheme, _, token = authorization.decode("latin-1").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    runtime: Any = getattr(scope.get("app"), "state", None)
    rt = getattr(runtime, "runtime", None)
    if not isinstance(rt, Runtime):
        return None
    try:
        principal = await rt.tokens.verify(token)
    except InvalidToken:
        return None
    if not principal.has_any(_STAFF):  # staff only: a form's principal has no roles
        return None
    try:
        etag = await view_etag(rt, request_id)
    except (NotFound, SQLAlchemyError, OSError):  # the route reads it again and answers as always
        return None
    return etag if etag_matches(etag, if_none_match.decode("latin-1")) else None
