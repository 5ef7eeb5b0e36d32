"""A HubSpot-style CRM API on loopback, for the ``rest`` connector's tests and the demo.

Follows the CRM v3 shapes: ``POST /crm/v3/objects/contacts/search`` with ``filterGroups``
and ``paging.next.after`` cursors in the body, ``PATCH`` of ``properties``, archive
(``DELETE``) and ``POST …/contacts/gdpr-delete``. A contact's logged e-mails
(``GET /crm/v3/objects/contacts/{id}/emails``) page by next-page *links*: both a
``Link: <…>; rel="next"`` header and ``paging.next.link``. Unlike a deleted Intercom
contact, a deleted HubSpot contact leaves its e-mails behind (``DELETE
/crm/v3/objects/emails/{id}`` removes one), so a connector must erase them first.

``HubspotState.fail_next`` answers 503, ``rate_limit_next`` 429, and ``link_origin``
makes next-page links point to another host. The credential is a bearer token by default; ``HubspotState(auth_header="X-Api-Key")``
expects the bare token in that header instead.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.connectors.testing.server import serve_app

Handler = Callable[[Request], Awaitable[Response]]
_CREATED = "2026-01-05T10:00:00.000Z"
_PROPERTIES = ("email", "firstname", "lastname", "phone", "company")


@dataclass
class HubspotState:
    """The peer's whole world; tests seed and inspect it directly."""

    token: str = "hubspot-test-token"
    auth_header: str = "Authorization"
    per_page: int = 2
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    emails: dict[str, dict[str, Any]] = field(default_factory=dict)
    rate_limit_next: int = 0
    retry_after: str = "1"
    fail_next: int = 0
    link_origin: str | None = None
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(101), repr=False)

    def add_contact(self, **properties: str) -> dict[str, Any]:
        contact_id = str(next(self._ids))
        contact = {
            "id": contact_id,
            "properties": {name: properties.get(name) for name in _PROPERTIES},
            "createdAt": _CREATED,
            "updatedAt": _CREATED,
            "archived": False,
        }
        with self.lock:
            self.contacts[contact_id] = contact
        return contact

    def add_email(self, contact_id: str, subject: str, text: str) -> dict[str, Any]:
        email_id = str(next(self._ids))
        email = {
            "id": email_id,
            "properties": {
                "hs_email_subject": subject,
                "hs_email_text": text,
                "hs_email_direction": "INCOMING_EMAIL",
                "hs_timestamp": _CREATED,
            },
            "contact_id": contact_id,
        }
        with self.lock:
            self.emails[email_id] = email
        return email

    def clear(self) -> None:
        with self.lock:
            self.contacts.clear()
            self.emails.clear()
            self.rate_limit_next = self.fail_next = 0
            self.link_origin = None


def seed_demo(state: HubspotState) -> None:
    """A few CRM contacts with logged e-mails, for the demo."""
    kari = state.add_contact(
        email="kari.nordmann@example.com", firstname="Kari", lastname="Nordmann",
        phone="+4791234567", company="Nordmann Bygg AS",
    )  # fmt: skip
    state.add_email(kari["id"], "Tilbud", "Hei Kari, her er tilbudet vi snakket om.")
    state.add_email(kari["id"], "Re: Tilbud", "Takk, vi tar det.")
    state.add_email(kari["id"], "Faktura", "Vedlagt faktura for mars.")
    per = state.add_contact(email="per.olsen@example.com", firstname="Per", lastname="Olsen")
    state.add_email(per["id"], "Møte", "Passer tirsdag?")


def _error(status: int, category: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"status": "error", "category": category, "message": category.replace("_", " ")}
    return JSONResponse(body, status_code=status, headers=headers)


def _public(contact: dict[str, Any], wanted: list[str] | None) -> dict[str, Any]:
    keep = wanted or ["email", "firstname", "lastname"]
    properties = {k: v for k, v in contact["properties"].items() if k in keep}
    return {**contact, "properties": properties}


def _matches(contact: dict[str, Any], groups: list[dict[str, Any]]) -> bool:
    """OR of groups, AND of filters; EQ only (case-insensitive, as HubSpot's e-mail match)."""

    def one(f: dict[str, Any]) -> bool:
        value = contact["properties"].get(f.get("propertyName", "")) or ""
        return f.get("operator") == "EQ" and str(value).lower() == str(f.get("value")).lower()

    return any(all(one(f) for f in g.get("filters", [])) and g.get("filters") for g in groups)


def create_app(state: HubspotState | None = None) -> Starlette:
    """The ASGI app; ``app.state.peer`` is the ``HubspotState`` it serves."""
    peer = state or HubspotState()

    def guarded(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            with peer.lock:
                peer.requests += 1
                limited, failed = peer.rate_limit_next > 0, peer.fail_next > 0
                peer.rate_limit_next -= limited
                peer.fail_next -= failed and not limited
            if limited:
                return _error(429, "RATE_LIMITS", {"Retry-After": peer.retry_after})
            if failed:
                return _error(503, "SERVICE_UNAVAILABLE")
            expected = peer.token
            if peer.auth_header.lower() == "authorization":
                expected = f"Bearer {peer.token}"
            if request.headers.get(peer.auth_header) != expected:
                return _error(401, "INVALID_AUTHENTICATION")
            return await handler(request)

        return endpoint

    async def list_contacts(request: Request) -> Response:
        limit = int(request.query_params.get("limit", "10"))
        page = [_public(c, None) for c in list(peer.contacts.values())[:limit]]
        return JSONResponse({"results": page})

    async def search(request: Request) -> Response:
        payload = await request.json()
        found = [c for c in peer.contacts.values() if _matches(c, payload.get("filterGroups", []))]
        start = int(payload.get("after") or 0)
        limit = int(payload.get("limit") or peer.per_page)
        page = [_public(c, payload.get("properties")) for c in found[start : start + limit]]
        body: dict[str, Any] = {"total": len(found), "results": page}
        if start + limit < len(found):
            body["paging"] = {"next": {"after": str(start + limit)}}
        return JSONResponse(body)

    async def contact(request: Request) -> Response:
        contact_id = request.path_params["id"]
        found = peer.contacts.get(contact_id)
        if found is None:
            return _error(404, "OBJECT_NOT_FOUND")
        if request.method == "DELETE":
            with peer.lock:
                del peer.contacts[contact_id]
            return Response(status_code=204)
        if request.method == "PATCH":
            changes = (await request.json()).get("properties", {})
            with peer.lock:
                found["properties"].update({k: v for k, v in changes.items() if k in _PROPERTIES})
                found["updatedAt"] = "2026-03-02T09:00:00.000Z"
        return JSONResponse(_public(found, list(_PROPERTIES)))

    async def gdpr_delete(request: Request) -> Response:
        contact_id = str((await request.json()).get("objectId", ""))
        with peer.lock:
            if peer.contacts.pop(contact_id, None) is None:
                return _error(404, "OBJECT_NOT_FOUND")
        return Response(status_code=204)

    async def contact_emails(request: Request) -> Response:
        contact_id = request.path_params["id"]
        if contact_id not in peer.contacts:
            return _error(404, "OBJECT_NOT_FOUND")
        mine = sorted(
            (e for e in peer.emails.values() if e["contact_id"] == contact_id),
            key=lambda e: int(e["id"]),
        )
        start = int(request.query_params.get("after", "0"))
        limit = int(request.query_params.get("limit", peer.per_page))
        page = [
            {k: v for k, v in e.items() if k != "contact_id"} for e in mine[start : start + limit]
        ]
        body: dict[str, Any] = {"results": page}
        headers = {}
        if start + limit < len(mine):
            url = request.url.include_query_params(after=start + limit, limit=limit)
            if peer.link_origin:  # a misbehaving API that links elsewhere
                url = url.replace(netloc=peer.link_origin)
            link = str(url)
            body["paging"] = {"next": {"after": str(start + limit), "link": link}}
            headers["Link"] = f'<{link}>; rel="next"'
        return JSONResponse(body, headers=headers)

    async def email(request: Request) -> Response:
        with peer.lock:
            if peer.emails.pop(request.path_params["id"], None) is None:
                return _error(404, "OBJECT_NOT_FOUND")
        return Response(status_code=204)

    base = "/crm/v3/objects"
    routes = [
        Route(f"{base}/contacts", guarded(list_contacts)),
        Route(f"{base}/contacts/search", guarded(search), methods=["POST"]),
        Route(f"{base}/contacts/gdpr-delete", guarded(gdpr_delete), methods=["POST"]),
        Route(f"{base}/contacts/{{id}}", guarded(contact), methods=["GET", "PATCH", "DELETE"]),
        Route(f"{base}/contacts/{{id}}/emails", guarded(contact_emails)),
        Route(f"{base}/emails/{{id}}", guarded(email), methods=["DELETE"]),
    ]
    app = Starlette(routes=routes)
    app.state.peer = peer
    return app


@contextmanager
def serve(state: HubspotState | None = None) -> Iterator[str]:
    """Serve the peer on ``127.0.0.1`` and a free port until the block ends; yields its URL."""
    with serve_app(create_app(state)) as base_url:
        yield base_url
