"""The demo's loopback services: a chat tool, a support mailbox and an Elhub-style registry.

They are the peers the connector tests run against (``innsyn_peers``),
started in this process on ``127.0.0.1`` and free ports, and seeded with the demo people.
Their data lives in memory: every start of the demo begins with the same chats, e-mails
and registry entries.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from importlib.util import find_spec

from innsyn_peers import imap as imap_peer
from innsyn_peers.elhub import ElhubPeer
from innsyn_peers.intercom import IntercomState
from innsyn_peers.intercom import serve as serve_intercom

from app.connectors.testing.server import serve_app
from app.demo.people import PEOPLE, DemoPerson

MAILBOX = "kundeservice@example.no"
"""The shared support mailbox the ``imap`` connector searches."""
SENT_FOLDER = "Sent"


class DemoUnavailable(RuntimeError):
    """Something the demo needs is not installed; the message says how to install it."""


@dataclass(frozen=True)
class DemoSecrets:
    """Credentials of the loopback services, generated per start and handed to the
    connectors through environment variables (``${VAR}`` in the connectors file)."""

    intercom_token: str
    elhub_token: str
    imap_password: str

    @classmethod
    def generate(cls) -> DemoSecrets:
        import secrets

        return cls(*(secrets.token_urlsafe(24) for _ in range(3)))

    def __repr__(self) -> str:
        return "DemoSecrets(…)"


@dataclass(frozen=True)
class DemoPeers:
    """Where the running services listen, and their state (to look at or change)."""

    intercom_url: str
    elhub_url: str
    imap_host: str
    imap_port: int
    intercom: IntercomState
    elhub: ElhubPeer


def require_pymap() -> None:
    """The IMAP stand-in is pymap, a development dependency: say how to get it."""
    if find_spec("pymap") is None or find_spec("innsyn_peers") is None:
        raise DemoUnavailable(
            "the demo's loopback services need pymap and innsyn-peers, development packages; "
            "install them with `bash scripts/bootstrap.sh` (make run does this)"
        )


@contextmanager
def running_peers(
    secrets: DemoSecrets, people: Sequence[DemoPerson] = PEOPLE
) -> Iterator[DemoPeers]:
    """Start the three services, seeded with ``people``; stop them when the block ends."""
    require_pymap()
    with ExitStack() as stack:
        chat = IntercomState(token=secrets.intercom_token)
        seed_chat(chat, people)
        chat_url = stack.enter_context(serve_intercom(chat))
        registry = ElhubPeer(token=secrets.elhub_token)
        seed_registry(registry, people)
        registry_url = stack.enter_context(serve_app(registry.app))
        host, port = stack.enter_context(imap_peer.serve({MAILBOX: secrets.imap_password}))
        seed_mailbox(host, port, secrets.imap_password, people)
        yield DemoPeers(
            intercom_url=chat_url,
            elhub_url=registry_url,
            imap_host=host,
            imap_port=port,
            intercom=chat,
            elhub=registry,
        )


def seed_chat(state: IntercomState, people: Sequence[DemoPerson]) -> None:
    for person in people:
        if not (person.chats or person.chat_notes):
            continue  # never chatted: not a contact in the chat tool
        contact = state.add_contact(person.email, person.name, person.phone)
        for chat in person.chats:
            state.add_conversation(contact["id"], chat.title, f"<p>{chat.body}</p>")
        for note in person.chat_notes:
            state.add_note(contact["id"], note)


def seed_registry(peer: ElhubPeer, people: Sequence[DemoPerson]) -> None:
    for person in people:
        if person.national_id is None:
            continue  # the registry knows end users by national identity number only
        peer.add_end_user(
            national_id=person.national_id,
            name=person.name,
            email=person.email,
            mobile=person.phone,
            address=person.address,
            metering_points=person.metering_points,
        )


def seed_mailbox(host: str, port: int, password: str, people: Sequence[DemoPerson]) -> None:
    """Each person's e-mails: theirs in INBOX, customer service's answers in Sent."""
    for person in people:
        address = f"{person.name} <{person.email}>"
        for mail in person.mails:
            sender, recipient = (address, MAILBOX) if mail.from_person else (MAILBOX, address)
            raw = imap_peer.message(
                sender=sender, to=recipient, subject=mail.subject, body=mail.body, day=mail.day
            )
            folder = "INBOX" if mail.from_person else SENT_FOLDER
            imap_peer.append(host, port, MAILBOX, password, raw, folder=folder)
