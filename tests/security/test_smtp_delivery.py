"""Verification codes travel by real SMTP when ``INNSYN_SMTP_URL`` is set (aiosmtpd peer)."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from app.infra.mail import Mailer


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, _server, _session, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.rcpt_tos, message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, str]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


async def test_code_is_sent_by_smtp_and_verifies(client, form_key, runtime, smtp):
    inbox, url = smtp
    runtime.mailer = Mailer(
        sender="personvern@firma.example", smtp_url=url, outbox=runtime.settings.outbox_dir
    )
    created = await client.post(
        "/v1/requests",
        json={"kind": "access", "language": "en", "subject": {"email": "mail.person@example.no"}},
        headers=form_key,
    )
    assert created.status_code == 201
    [(recipients, message)] = inbox.messages
    assert recipients == ["mail.person@example.no"]
    assert message["From"] == "personvern@firma.example"
    code = re.search(r"code is (\d{6})", message.get_content()).group(1)
    outbox = runtime.settings.outbox_dir
    assert not outbox.exists() or not any(outbox.iterdir())  # nothing fell back to the outbox
    verified = await client.post(
        f"/v1/requests/{created.json()['id']}/verification", json={"code": code}, headers=form_key
    )
    assert verified.status_code == 200
    assert verified.json()["verification"]["state"] == "verified"
    # The acknowledgement with the deadline follows by the same route.
    assert any("received" in m["Subject"] for _r, m in inbox.messages[1:])
