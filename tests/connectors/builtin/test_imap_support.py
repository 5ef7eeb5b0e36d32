"""Real IMAP accounts for the imap connector tests: Dovecot (scripts/with-services.sh) and
the in-process pymap peer. Messages are seeded with IMAP APPEND; the mailbox is emptied
before and after each test."""

from __future__ import annotations

import imaplib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pytest
from innsyn_peers import imap as imap_peer

from app.connectors.builtin.imap import ImapConfig, ImapConnector
from app.connectors.builtin.imap_wire import parse_list, quote, read_message

PYMAP_USER, PYMAP_PASSWORD = "support@example.test", "pymap-pass-5e1f"


@dataclass(frozen=True)
class Account:
    server: str
    host: str
    port: int
    user: str
    password: str

    def config(self, **overrides: Any) -> ImapConfig:
        values: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "security": "none",
            "username": self.user,
            "password": self.password,
            "timeout_seconds": 10,
        }
        return ImapConfig.model_validate(values | overrides)

    def connector(self, **overrides: Any) -> ImapConnector:
        return ImapConnector(name="mailbox", config=self.config(**overrides))

    def session(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap.login(self.user, self.password)
        return imap

    def append(self, message: bytes | EmailMessage, folder: str = "INBOX") -> None:
        raw = bytes(message) if isinstance(message, EmailMessage) else message
        with self.session() as imap:
            if folder != "INBOX":
                imap.create(quote(folder))  # NO if it exists: fine
            typ, data = imap.append(quote(folder), None, None, raw)
            assert typ == "OK", data
            imap.logout()

    def subjects(self, folder: str = "INBOX") -> list[str]:
        """Subjects of the messages in a folder, as the server has them now."""
        with self.session() as imap:
            typ, data = imap.select(quote(folder), readonly=True)
            assert typ == "OK", data
            typ, data = imap.uid("SEARCH", "ALL")
            uids = data[0].split()
            found: list[str] = []
            if uids:
                typ, fetched = imap.uid(
                    "FETCH", b",".join(uids), "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])"
                )
                found = [
                    str(read_message(part[1])["subject"])
                    for part in fetched
                    if isinstance(part, tuple)
                ]
            imap.logout()
            return sorted(found)

    def uidvalidity(self, folder: str) -> str:
        with self.session() as imap:
            imap.select(quote(folder), readonly=True)
            _, data = imap.response("UIDVALIDITY")
            imap.logout()
            return str(data[0].decode())

    def clear(self) -> None:
        with self.session() as imap:
            _, data = imap.list()
            folders = [f.raw for f in parse_list(data) if f.raw.upper() != "INBOX"]
            for raw in sorted(folders, key=lambda r: r.count("/"), reverse=True):
                imap.delete(quote(raw))
            typ, data = imap.select("INBOX")
            if typ == "OK" and data[0] not in (b"0", None):
                imap.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                imap.expunge()
            imap.logout()


def dovecot_users() -> list[tuple[str, str]]:
    raw = os.environ.get("INNSYN_TEST_IMAP_USERS", "")
    return [tuple(e.split(":", 1)) for e in raw.split(",") if ":" in e]  # type: ignore[misc]


@pytest.fixture(scope="session")
def dovecot_account(worker_id_safe: str) -> Account:
    """A Dovecot mailbox of its own per xdist worker (gw0: alice, gw1: bob, ...)."""
    host, port = os.environ.get("INNSYN_TEST_IMAP_HOST"), os.environ.get("INNSYN_TEST_IMAP_PORT")
    users = dovecot_users()
    if not (host and port and users):
        pytest.skip("no Dovecot: run under scripts/with-services.sh")
    index = int(worker_id_safe[2:]) if worker_id_safe.startswith("gw") else 0
    user, password = users[index % len(users)]
    return Account("dovecot", host, int(port), user, password)


@pytest.fixture(scope="module")
def pymap_account() -> Iterator[Account]:
    with imap_peer.serve({PYMAP_USER: PYMAP_PASSWORD}) as (host, port):
        yield Account("pymap", host, port, PYMAP_USER, PYMAP_PASSWORD)


@pytest.fixture(params=["dovecot", "pymap"])
def account(request: pytest.FixtureRequest) -> Iterator[Account]:
    """Each test runs against both servers, on an empty mailbox."""
    found: Account = request.getfixturevalue(f"{request.param}_account")
    found.clear()
    yield found
    found.clear()


def mail(
    *, sender: str, to: str, subject: str, body: str = "Hei!", cc: str | None = None,
    bcc: str | None = None,
) -> EmailMessage:  # fmt: skip
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Date"] = "Mon, 02 Feb 2026 09:30:00 +0100"
    if cc:
        message["Cc"] = cc
    if bcc:
        message["Bcc"] = bcc
    message.set_content(body)
    return message
