"""Hashing a one-time code (Argon2, tens of milliseconds of CPU) runs in a thread: the event
loop serves other requests meanwhile."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from app.services import requests as request_service


class HeldHasher:
    """Hashes only once the test lets it: while held, the loop must stay free."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.gate = threading.Event()

    def hash(self, code: str) -> str:
        self.gate.wait(5)
        return str(self.real.hash(code))

    def verify(self, digest: str, code: str) -> bool:
        return bool(self.real.verify(digest, code))


async def test_the_loop_runs_while_a_code_is_hashed(client, form_key, monkeypatch):
    held = HeldHasher(request_service._hasher)
    monkeypatch.setattr(request_service, "_hasher", held)
    post = asyncio.create_task(
        client.post(
            "/v1/requests",
            json={"kind": "access", "subject": {"email": "ola@example.no"}},
            headers=form_key,
        )
    )
    ticks = 0
    while ticks < 20:  # the loop keeps turning while the hash waits in its thread
        await asyncio.sleep(0.01)
        ticks += 1
    assert not post.done()
    held.gate.set()
    response = await post
    assert response.status_code == 201, response.text
