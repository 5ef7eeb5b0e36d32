"""A fake Elhub-style statutory registry, served over real HTTP for tests and the demo.

The API shape (JSON, bearer token, camelCase like Elhub's public APIs):

- ``GET  /v1/health`` -> ``{"status": "ok"}``
- ``POST /v1/end-users/lookup`` ``{"nationalId": "..."}`` -> the end user, or 404.
  A lookup is a POST so that the national id never appears in a URL (access logs).
- ``GET  /v1/end-users/{endUserId}`` -> master data
- ``GET  /v1/end-users/{endUserId}/metering-points`` -> ``{"meteringPoints": [...]}``
- ``PUT  /v1/end-users/{endUserId}/master-data`` -> replaces the correctable master data

There is no way to delete an end user: the registry keeps the data under its own legal
obligation. Every request is recorded in ``ElhubPeer.requests`` (method and path only).
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

MASTER_FIELDS = ("name", "email", "mobile", "phone", "postalAddress", "invoiceAddress")


# Field names are camelCase: they are the wire format.
@dataclass
class MeteringPoint:
    gsrn: str
    address: str
    gridOwner: str
    validFrom: str


@dataclass
class EndUser:
    endUserId: str
    nationalId: str
    name: str
    email: str | None = None
    mobile: str | None = None
    phone: str | None = None
    postalAddress: str | None = None
    invoiceAddress: str | None = None
    meteringPoints: list[MeteringPoint] = field(default_factory=list)

    def master_data(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("meteringPoints")
        return data


def gsrn_check_digit(first17: str) -> str:
    """GS1 mod-10 check digit: weights 3,1,3,... from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(first17)))
    return str((10 - total % 10) % 10)


class ElhubPeer:
    """The registry's state plus its Starlette app. Seed it with ``add_end_user``."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token or secrets.token_urlsafe(24)
        self.end_users: dict[str, EndUser] = {}
        self.requests: list[tuple[str, str]] = []
        self.fail_next: list[int] = []
        """Statuses to answer the next requests with (e.g. 503), to test error handling."""
        self._serial = itertools.count(1)
        self.app = Starlette(
            routes=[
                Route("/v1/health", self._health, methods=["GET"]),
                Route("/v1/end-users/lookup", self._lookup, methods=["POST"]),
                Route("/v1/end-users/{end_user_id}", self._end_user, methods=["GET"]),
                Route(
                    "/v1/end-users/{end_user_id}/metering-points",
                    self._metering_points,
                    methods=["GET"],
                ),
                Route("/v1/end-users/{end_user_id}/master-data", self._put_master, methods=["PUT"]),
            ],
            middleware=[],
        )
        self.app.add_middleware(_Gate, peer=self)

    def add_end_user(
        self,
        *,
        national_id: str,
        name: str,
        email: str | None = None,
        mobile: str | None = None,
        address: str = "Storgata 1, 0155 Oslo",
        metering_points: int = 1,
    ) -> EndUser:
        """Register a person with ``metering_points`` metering points; returns the end user."""
        serial = next(self._serial)
        user = EndUser(
            endUserId=f"eu-{serial:06d}",
            nationalId=national_id,
            name=name,
            email=email,
            mobile=mobile,
            postalAddress=address,
            invoiceAddress=address,
        )
        for n in range(metering_points):
            body = f"70705750{serial:05d}{n:04d}"
            user.meteringPoints.append(
                MeteringPoint(
                    gsrn=body + gsrn_check_digit(body),
                    address=address,
                    gridOwner="Demo Nett AS",
                    validFrom="2024-01-01",
                )
            )
        self.end_users[user.endUserId] = user
        return user

    def writes(self) -> list[tuple[str, str]]:
        """Every request that could have changed the registry (reads and lookups excluded)."""
        reads = {("POST", "/v1/end-users/lookup")}
        return [(m, p) for m, p in self.requests if m != "GET" and (m, p) not in reads]

    async def _health(self, _request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def _lookup(self, request: Request) -> Response:
        body = await request.json()
        wanted = body.get("nationalId") if isinstance(body, dict) else None
        for user in self.end_users.values():
            if user.nationalId == wanted:
                return JSONResponse(user.master_data())
        return _problem(404, "no end user with that national id")

    async def _end_user(self, request: Request) -> Response:
        user = self.end_users.get(request.path_params["end_user_id"])
        return JSONResponse(user.master_data()) if user else _problem(404, "no such end user")

    async def _metering_points(self, request: Request) -> Response:
        user = self.end_users.get(request.path_params["end_user_id"])
        if user is None:
            return _problem(404, "no such end user")
        return JSONResponse({"meteringPoints": [asdict(mp) for mp in user.meteringPoints]})

    async def _put_master(self, request: Request) -> Response:
        user = self.end_users.get(request.path_params["end_user_id"])
        if user is None:
            return _problem(404, "no such end user")
        body = await request.json()
        if not isinstance(body, dict) or set(body) - set(MASTER_FIELDS):
            return _problem(422, f"master data takes only {', '.join(MASTER_FIELDS)}")
        if not isinstance(body.get("name"), str) or not body["name"].strip():
            return _problem(422, "name is required")
        email = body.get("email")
        if email is not None and "@" not in str(email):
            return _problem(422, "email is not an e-mail address")
        for key in MASTER_FIELDS:
            setattr(user, key, body.get(key))
        return JSONResponse(user.master_data())


def _problem(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"status": status, "detail": detail}, status_code=status)


class _Gate:
    """Records each request, answers injected failures, and checks the bearer token."""

    def __init__(self, app: Any, peer: ElhubPeer) -> None:
        self.app = app
        self.peer = peer

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.peer.requests.append((scope["method"], scope["path"]))
        if self.peer.fail_next:
            response: Response = _problem(self.peer.fail_next.pop(0), "injected failure")
        elif _bearer(scope) != self.peer.token:
            response = _problem(401, "missing or wrong bearer token")
        else:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)


def _bearer(scope: Any) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"authorization" and value.startswith(b"Bearer "):
            return str(value[7:].decode("latin-1"))
    return None
