"""A real IMAP server on loopback, in-process: pymap with its in-memory ("dict") backend.

For the demo (``make run`` needs no Dovecot) and as a second server the ``imap``
connector's contract tests run against. It speaks IMAP4rev1 with UIDPLUS, so the
connector uses the same commands as against a production server. Plain IMAP without TLS,
cleartext LOGIN, loopback only. Mailboxes start empty; ``append`` (a normal IMAP APPEND)
or ``seed_demo`` fills them.

    with serve({"support@example.test": "secret"}) as (host, port):
        append(host, port, "support@example.test", "secret", message_bytes)
"""

from __future__ import annotations

import asyncio
import imaplib
import logging
import threading
from argparse import Namespace
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

_START_TIMEOUT = 10.0


async def _start_server(users: Mapping[str, str], host: str) -> asyncio.Server:
    # Imported here: only the demo and the tests need pymap (a dev dependency).
    from proxyprotocol.reader import ProxyProtocolReader
    from pymap.backend.dict import Config, Identity, Login
    from pymap.imap import IMAPServer
    from pymap.user import Passwords, UserMetadata
    from pysasl.hashing import Cleartext

    args = Namespace(
        host=host, port=0, debug=False, cert=None, key=None, tls=False, passlib_cfg=None,
        proxy_protocol=None, demo_data=False, demo_user="demouser", demo_password="",
    )  # fmt: skip
    # Cleartext password store: a throwaway loopback server does not need 500 000 PBKDF2
    # rounds per LOGIN (the default), and the tests log in often.
    config = Config.from_args(
        args, secure_auth=False, invalid_user_sleep=0.0, reject_dnsbl=False,
        hash_context=Cleartext(),
    )  # fmt: skip
    login = Login(config)
    passwords = Passwords(config)
    for user, password in users.items():
        hashed = await passwords.hash_password(password)
        await Identity(user, login, None, frozenset()).set(
            UserMetadata(config, user, password=hashed)
        )
    config.apply_context()
    callback = ProxyProtocolReader(config.proxy_protocol).get_callback(IMAPServer(login, config))
    return await asyncio.start_server(callback, host=host, port=0)


@contextmanager
def serve(users: Mapping[str, str], *, host: str = "127.0.0.1") -> Iterator[tuple[str, int]]:
    """Run the server in a background thread until the block ends; yields ``(host, port)``.

    Args:
        users: login name -> password; each gets an empty INBOX.
        host: the loopback address to bind.
    """
    # pymap logs the whole conversation at DEBUG, LOGIN passwords included: keep it quiet.
    logging.getLogger("pymap").setLevel(logging.WARNING)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict[str, object] = {}
    stop = asyncio.Event()

    async def main() -> None:
        try:
            server = await _start_server(users, host)
        except Exception as exc:  # noqa: BLE001 - handed to the starting thread, re-raised there
            box["error"] = exc
            ready.set()
            return
        box["port"] = server.sockets[0].getsockname()[1]
        ready.set()
        async with server:
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.name = "loopback-imap"
    thread.start()
    try:
        started = ready.wait(_START_TIMEOUT)
        error = box.get("error")
        if not started or isinstance(error, BaseException):
            cause = error if isinstance(error, BaseException) else None
            raise RuntimeError("the loopback IMAP server did not start") from cause
        yield host, int(str(box["port"]))
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(_START_TIMEOUT)
        if not thread.is_alive():
            loop.close()


def append(
    host: str, port: int, user: str, password: str, message: bytes, *, folder: str = "INBOX"
) -> None:
    """Store one message with IMAP APPEND (creating the folder if needed)."""
    with imaplib.IMAP4(host, port, timeout=10) as imap:
        imap.login(user, password)
        if folder != "INBOX":
            imap.create(_quote(folder))  # NO when it exists: harmless
        typ, data = imap.append(_quote(folder), None, None, message)
        if typ != "OK":
            raise RuntimeError(f"APPEND failed: {data!r}")
        imap.logout()


def message(
    *, sender: str, to: str, subject: str, body: str, cc: str | None = None, day: int = 2
) -> bytes:
    """A small text/plain message in wire format."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = format_datetime(datetime(2026, 2, day, 9, 30, tzinfo=UTC))
    msg.set_content(body)
    return bytes(msg)


def seed_demo(host: str, port: int, user: str, password: str) -> None:
    """A few customer e-mails in a support mailbox, for the demo."""
    kari = "Kari Nordmann <kari.nordmann@example.com>"
    for item in (
        message(sender=kari, to=user, subject="Spørsmål om faktura", body="Hei! Fakturaen "
                "for februar ser for høy ut. Kan dere sjekke? Mvh Kari"),
        message(sender=user, to=kari, subject="Re: Spørsmål om faktura", body="Hei Kari, "
                "vi har rettet fakturaen.", day=3),
        message(sender="Ola Hansen <ola.hansen@example.com>", to=user, subject="Måler",
                body="Måleren min viser feil.", cc=kari, day=4),
    ):  # fmt: skip
        append(host, port, user, password, item)
    append(host, port, user, password, message(
        sender="per.olsen@example.com", to=user, subject="Møte", body="Passer tirsdag?", day=5
    ), folder="Arkiv")  # fmt: skip


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
