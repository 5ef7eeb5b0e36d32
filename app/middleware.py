"""ASGI middleware: a hard limit on request body size."""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.problems import PROBLEM_JSON

_access = structlog.get_logger("innsyn.access")


async def send_problem(
    send: Send, scope: Scope, *, status: int, type_: str, title: str, detail: str
) -> None:
    """Answer with a problem document from the ASGI layer, before any handler runs."""
    body = json.dumps(
        {
            "type": type_,
            "title": title,
            "status": status,
            "detail": detail,
            "instance": scope.get("path", "").replace("\x00", ""),
        }
    ).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def guard_body(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    refused: Callable[[bytes], bool],
    reject: Callable[[], Awaitable[None]],
) -> None:
    """Run ``app``, checking each body chunk as it streams in: the first chunk ``refused``
    turns down (before the app has answered) gets ``reject``'s answer instead, the app sees a
    disconnected client, and whatever it answers after that is dropped."""
    rejected = started = False

    async def checked_receive() -> Message:
        nonlocal rejected
        if rejected:
            return {"type": "http.disconnect"}
        message = await receive()
        if message["type"] == "http.request" and refused(message.get("body", b"")) and not started:
            rejected = True
            await reject()
            return {"type": "http.disconnect"}
        return message

    async def guarded_send(message: Message) -> None:
        nonlocal started
        if not rejected:
            started = True
            await send(message)

    await app(scope, checked_receive, guarded_send)


class BodySizeLimit:
    """Refuses bodies over ``max_bytes`` with 413, whether or not Content-Length is honest."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def reject() -> None:
            await send_problem(
                send,
                scope,
                status=413,
                type_="/problems/payload-too-large",
                title="Request body too large",
                detail=f"the body may be at most {self.max_bytes} bytes",
            )

        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await reject()
                return
        received = 0

        def too_large(chunk: bytes) -> bool:
            nonlocal received
            received += len(chunk)
            return received > self.max_bytes

        await guard_body(self.app, scope, receive, send, refused=too_large, reject=reject)


class AccessLog:
    """One structured line per HTTP call: method, route, status, duration. Never the query
    string (it can carry a status token) and never bodies."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            route = scope.get("route")
            _access.info(
                "http_request",
                method=scope.get("method"),
                route=getattr(route, "path", None) or "unmatched",
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
