"""ASGI middleware: text with a NUL character is refused before it reaches a handler.

PostgreSQL cannot store U+0000 in text or JSON, so a NUL in a path, a query string or a JSON
string (``\\u0000``) would otherwise fail deep in a query as a 500. No identifier, reason or
filter of this service needs one: the caller gets a 422 problem saying so.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.middleware import guard_body, send_problem

_ESCAPED = b"\\u0000"


def _has_nul(scope: Scope) -> bool:
    raw_path = scope.get("raw_path") or scope.get("path", "").encode()
    query = scope.get("query_string", b"")
    return any(b"\x00" in part or b"%00" in part.lower() for part in (raw_path, query))


class RefuseNul:
    """422 for a NUL in the path, the query string or the body (raw or JSON-escaped)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope):
            await _reject(scope, send)
            return
        tail = b""

        def has_nul(chunk: bytes) -> bool:
            nonlocal tail
            window = tail + chunk
            tail = window[-(len(_ESCAPED) - 1) :]
            return b"\x00" in chunk or _ESCAPED in window

        await guard_body(
            self.app, scope, receive, send, refused=has_nul, reject=lambda: _reject(scope, send)
        )


async def _reject(scope: Scope, send: Send) -> None:
    await send_problem(
        send,
        scope,
        status=422,
        type_="/problems/validation-error",
        title="Invalid input",
        detail="text may not contain the NUL character (U+0000)",
    )
