"""ASGI middleware: text with a NUL character is refused before it reaches a handler.

PostgreSQL cannot store U+0000 in text or JSON, so a NUL in a path, a query string or a JSON
string (``\\u0000``) would otherwise fail deep in a query as a 500. No identifier, reason or
filter of this service needs one: the caller gets a 422 problem saying so.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.problems import PROBLEM_JSON

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
        rejected = started = False

        async def checked_receive() -> Message:
            nonlocal tail, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                window = tail + chunk
                tail = window[-(len(_ESCAPED) - 1) :]
                if (b"\x00" in chunk or _ESCAPED in window) and not started:
                    rejected = True
                    await _reject(scope, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if not rejected:
                started = True
                await send(message)

        await self.app(scope, checked_receive, guarded_send)


async def _reject(scope: Scope, send: Send) -> None:
    body = json.dumps(
        {
            "type": "/problems/validation-error",
            "title": "Invalid input",
            "status": 422,
            "detail": "text may not contain the NUL character (U+0000)",
            "instance": scope.get("path", "").replace("\x00", ""),
        }
    ).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 422, "headers": headers})
    await send({"type": "http.response.body", "body": body})
