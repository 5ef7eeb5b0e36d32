"""An Intercom-style chat API on loopback, for the ``rest`` connector's tests and the demo.

The shapes follow Intercom's REST API closely enough to exercise what a connector must
handle: bearer auth, ``POST /contacts/search`` with a query and cursor pagination in the
body, a contact's conversations with ``starting_after`` cursors in the query, notes with
numbered pages, ``PUT /contacts/{id}``, ``DELETE /contacts/{id}`` and the permanent
``POST /user_delete_requests``. Deleting a contact deletes its conversations and notes, as
Intercom does.

Failure knobs on ``IntercomState``: ``rate_limit_next`` (answer 429 with ``Retry-After``),
``delay_seconds`` (answer late), ``deleted_elsewhere`` (a contact deleted concurrently:
DELETE removes it and answers 404) and ``stale_index`` (search still lists a contact that
DELETE says is gone).

    state = IntercomState(token="t")
    seed_demo(state)
    with serve(state) as base_url:
        ...
"""

from __future__ import annotations

import asyncio
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
_EPOCH = 1_767_225_600  # 2026-01-01T00:00Z: fixed timestamps keep snapshots stable


@dataclass
class IntercomState:
    """The peer's whole world; tests seed and inspect it directly."""

    token: str = "intercom-test-token"
    per_page: int = 2
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    conversations: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: dict[str, dict[str, Any]] = field(default_factory=dict)
    rate_limit_next: int = 0
    retry_after: str = "2"
    delay_seconds: float = 0.0
    deleted_elsewhere: set[str] = field(default_factory=set)
    stale_index: set[str] = field(default_factory=set)
    requests: int = 0
    # Idempotency-Key of every change (DELETE, PUT, PATCH), in order (None when absent).
    idempotency_keys: list[str | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):05d}"

    def add_contact(self, email: str, name: str, phone: str | None = None) -> dict[str, Any]:
        contact_id = self._id("c")
        contact: dict[str, Any] = {
            "type": "contact",
            "id": contact_id,
            "role": "user",
            "email": email,
            "name": name,
            "phone": phone,
            "created_at": _EPOCH,
            "custom_attributes": {},
        }
        with self.lock:
            self.contacts[contact_id] = contact
        return contact

    def add_conversation(self, contact_id: str, title: str, body: str) -> dict[str, Any]:
        conversation_id = self._id("conv")
        conversation: dict[str, Any] = {
            "type": "conversation",
            "id": conversation_id,
            "created_at": _EPOCH + 3600,
            "state": "closed",
            "title": title,
            "source": {"type": "conversation", "body": body, "author": {"id": contact_id}},
            "contacts": {"contacts": [{"type": "contact", "id": contact_id}]},
        }
        with self.lock:
            self.conversations[conversation_id] = conversation
        return conversation

    def add_note(self, contact_id: str, body: str) -> dict[str, Any]:
        note_id = self._id("n")
        note: dict[str, Any] = {
            "type": "note",
            "id": note_id,
            "created_at": _EPOCH + 7200,
            "body": body,
            "contact": {"type": "contact", "id": contact_id},
        }
        with self.lock:
            self.notes[note_id] = note
        return note

    def remove_contact(self, contact_id: str) -> bool:
        with self.lock:
            if self.contacts.pop(contact_id, None) is None:
                return False
            for store in (self.conversations, self.notes):
                for key in [k for k, v in store.items() if _owner(v) == contact_id]:
                    del store[key]
            return True

    def clear(self) -> None:
        with self.lock:
            self.contacts.clear()
            self.conversations.clear()
            self.notes.clear()
            self.deleted_elsewhere.clear()
            self.stale_index.clear()
            self.idempotency_keys.clear()
            self.rate_limit_next = 0
            self.delay_seconds = 0.0


def _owner(item: dict[str, Any]) -> str | None:
    if item.get("type") == "note":
        return str(item["contact"]["id"])
    return str(item["contacts"]["contacts"][0]["id"])


def seed_demo(state: IntercomState) -> None:
    """A few people with chats, for the demo."""
    kari = state.add_contact("kari.nordmann@example.com", "Kari Nordmann", "+4791234567")
    state.add_conversation(kari["id"], "Faktura", "<p>Hei, jeg har et spørsmål om fakturaen.</p>")
    state.add_conversation(kari["id"], "Flytting", "<p>Jeg flytter 1. april.</p>")
    state.add_conversation(kari["id"], "Strømavtale", "<p>Kan jeg bytte avtale?</p>")
    state.add_note(kari["id"], "Ringte kunden tilbake.")
    ola = state.add_contact("ola.hansen@example.com", "Ola Hansen", "+4798765432")
    state.add_conversation(ola["id"], "Måler", "<p>Måleren viser feil.</p>")


def _error(status: int, code: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"type": "error.list", "errors": [{"code": code, "message": code.replace("_", " ")}]}
    return JSONResponse(body, status_code=status, headers=headers)


def _cursor_page(
    items: list[dict[str, Any]], per_page: int, after: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Items after the cursor (an item id), and the next cursor if more remain."""
    ordered = sorted(items, key=lambda i: str(i["id"]))
    if after:
        ordered = [i for i in ordered if str(i["id"]) > after]
    page = ordered[:per_page]
    return page, (str(page[-1]["id"]) if len(ordered) > per_page else None)


def create_app(state: IntercomState | None = None) -> Starlette:
    """The ASGI app; ``app.state.peer`` is the ``IntercomState`` it serves."""
    peer = state or IntercomState()

    def guarded(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            with peer.lock:
                peer.requests += 1
                if request.method in ("DELETE", "PUT", "PATCH"):
                    peer.idempotency_keys.append(request.headers.get("idempotency-key"))
                limited = peer.rate_limit_next > 0
                if limited:
                    peer.rate_limit_next -= 1
            if peer.delay_seconds:
                await asyncio.sleep(peer.delay_seconds)
            if limited:
                return _error(429, "rate_limit_exceeded", {"Retry-After": peer.retry_after})
            if request.headers.get("authorization") != f"Bearer {peer.token}":
                return _error(401, "unauthorized")
            return await handler(request)

        return endpoint

    async def me(_: Request) -> Response:
        return JSONResponse({"type": "admin", "id": "a1", "name": "Innsyn"})

    async def search(request: Request) -> Response:
        payload = await request.json()
        query = payload.get("query", {})
        if query.get("operator") != "=" or query.get("field") not in ("email", "phone", "id"):
            return _error(400, "parameter_invalid")
        wanted = str(query.get("value", "")).lower()
        field_name = query["field"]
        found = [
            c for c in peer.contacts.values() if str(c.get(field_name) or "").lower() == wanted
        ]
        pagination = payload.get("pagination") or {}
        per_page = int(pagination.get("per_page", peer.per_page))
        page, cursor = _cursor_page(found, per_page, pagination.get("starting_after"))
        pages: dict[str, Any] = {"type": "pages", "per_page": per_page}
        if cursor:
            pages["next"] = {"starting_after": cursor}
        return JSONResponse(
            {"type": "list", "data": page, "total_count": len(found), "pages": pages}
        )

    async def contact(request: Request) -> Response:
        contact_id = request.path_params["id"]
        found = peer.contacts.get(contact_id)
        if request.method == "DELETE" and contact_id in peer.deleted_elsewhere:
            peer.remove_contact(contact_id)  # someone else deleted it a moment ago
            return _error(404, "not_found")
        if found is None or (request.method == "DELETE" and contact_id in peer.stale_index):
            return _error(404, "not_found")
        if request.method == "DELETE":
            peer.remove_contact(contact_id)
            return JSONResponse({"id": contact_id, "object": "contact", "deleted": True})
        if request.method == "PUT":
            changes = await request.json()
            with peer.lock:
                found.update({k: v for k, v in changes.items() if k in ("name", "phone", "email")})
        return JSONResponse(found)

    async def user_delete_request(request: Request) -> Response:
        contact_id = str((await request.json()).get("intercom_user_id", ""))
        if not peer.remove_contact(contact_id):
            return _error(404, "not_found")
        return JSONResponse({"id": int(contact_id.lstrip("c") or 0)})

    async def conversations(request: Request) -> Response:
        contact_id = request.path_params["id"]
        if contact_id not in peer.contacts:
            return _error(404, "not_found")
        mine = [c for c in peer.conversations.values() if _owner(c) == contact_id]
        per_page = int(request.query_params.get("per_page", peer.per_page))
        page, cursor = _cursor_page(mine, per_page, request.query_params.get("starting_after"))
        pages: dict[str, Any] = {"type": "pages", "per_page": per_page}
        if cursor:
            pages["next"] = {"starting_after": cursor}
        return JSONResponse({"type": "conversation.list", "conversations": page, "pages": pages})

    async def notes(request: Request) -> Response:
        contact_id = request.path_params["id"]
        if contact_id not in peer.contacts:
            return _error(404, "not_found")
        mine = sorted(
            (n for n in peer.notes.values() if _owner(n) == contact_id), key=lambda n: n["id"]
        )
        per_page = int(request.query_params.get("per_page", peer.per_page))
        page = int(request.query_params.get("page", "1"))
        total = max(1, -(-len(mine) // per_page))
        data = mine[(page - 1) * per_page : page * per_page]
        pages = {"type": "pages", "page": page, "per_page": per_page, "total_pages": total}
        return JSONResponse({"type": "list", "data": data, "pages": pages})

    routes = [
        Route("/me", guarded(me)),
        Route("/contacts/search", guarded(search), methods=["POST"]),
        Route("/contacts/{id}", guarded(contact), methods=["GET", "PUT", "DELETE"]),
        Route("/contacts/{id}/conversations", guarded(conversations)),
        Route("/contacts/{id}/notes", guarded(notes)),
        Route("/user_delete_requests", guarded(user_delete_request), methods=["POST"]),
    ]
    app = Starlette(routes=routes)
    app.state.peer = peer
    return app


@contextmanager
def serve(state: IntercomState | None = None) -> Iterator[str]:
    """Serve the peer on ``127.0.0.1`` and a free port until the block ends; yields its URL."""
    with serve_app(create_app(state)) as base_url:
        yield base_url
