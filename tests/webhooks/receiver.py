"""A real webhook receiver on loopback that records what arrives and can fail on demand."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


class Receiver:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.fail_next = 0
        self.app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> Response:
        body = await request.body()
        self.received.append({"headers": dict(request.headers), "body": body.decode()})
        if self.fail_next:
            self.fail_next -= 1
            return Response(status_code=503)
        return Response(status_code=204)
