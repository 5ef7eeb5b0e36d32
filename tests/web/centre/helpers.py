"""Driving the privacy centre as a browser would: read the form's token, post, follow."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from pathlib import Path

import httpx


def csrf_of(page: str) -> str:
    return page.split('name="csrf_token" value="')[1].split('"')[0]


async def post_form(
    client: httpx.AsyncClient, path: str, data: dict[str, str | list[str]]
) -> httpx.Response:
    """GET ``path``'s page for its CSRF token, then post ``data`` with it."""
    page = await client.get("/personvern/")
    return await client.post(path, data={"csrf_token": csrf_of(page.text), **data})


def last_code(outbox: Path) -> str:
    """The newest verification code in the mail outbox (Norwegian or English letter)."""
    mails = sorted(outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    for path in reversed(mails):
        content = message_from_bytes(path.read_bytes(), policy=policy.default).get_body()
        assert content is not None
        found = re.search(r"(?:code is|Koden din er) (\d{6})", content.get_content())
        if found:
            return found.group(1)
    raise AssertionError("no code in the outbox")
