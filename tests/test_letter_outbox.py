"""Letters leave through a durable outbox, after commit: none for a change that rolled back,
none twice for a transaction run again, and one that could not be sent is sent later."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import select

from app.db.models import DsrRequest, OutgoingLetter
from app.domain.letters import Letter
from app.infra.mail import Mailer
from app.jobs import runner
from app.services import letter_outbox
from tests.jobs.conftest import file_verified
from tests.jobs.systems import MemorySystem, registry
from tests.security.test_smtp_delivery import Inbox, smtp  # noqa: F401 - fixture

PERSON = "kari.nordmann@example.no"


def mails(runtime: Any) -> list[Any]:
    folder = Path(runtime.settings.outbox_dir)
    return [
        message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted(folder.glob("*.eml"))
    ]


async def letters(runtime: Any) -> list[OutgoingLetter]:
    async with runtime.db.session() as session:
        return list(await session.exec(select(OutgoingLetter)))


async def test_a_change_that_rolls_back_sends_nothing(runtime, client, form_key):
    created = await client.post(
        "/v1/requests", json={"kind": "access", "subject": {"email": PERSON}}, headers=form_key
    )
    request_id = created.json()["id"]
    before = len(mails(runtime))

    async def change_that_fails() -> None:
        async with runtime.db.session() as session:
            request = await session.get(DsrRequest, request_id)
            assert request is not None
            letter = Letter("Never", "This change is rolled back.")
            await letter_outbox.queue(runtime, session, request, PERSON, letter, kind="test")
            raise RuntimeError("the change fails after the letter was queued")

    with pytest.raises(RuntimeError):
        await change_that_fails()
    assert len(mails(runtime)) == before
    assert [x.kind for x in await letters(runtime)] == ["verification_code"]


async def test_a_retried_write_back_sends_the_completion_letter_once(runtime, worker, monkeypatch):
    """The completing write-back fails to commit once (a dropped connection) and is run
    again: the letter it queued the first time rolled back with it."""
    crm = MemorySystem("crm")
    crm.seed(PERSON, "contact", {"email": PERSON})
    runtime.connectors = registry(crm)
    real = runner.record_attempts
    failures = []

    async def flaky(rt: Any, session: Any, reports: Any, **kwargs: Any) -> Any:
        result = await real(rt, session, reports, **kwargs)
        if not failures:
            failures.append(1)
            raise OperationalError("COMMIT", {}, ConnectionError("connection dropped"))
        return result

    monkeypatch.setattr(runner, "record_attempts", flaky)
    await file_verified(runtime, "access", email=PERSON)
    await worker.run_until_idle()
    assert failures == [1]
    completed = [m for m in mails(runtime) if m["Subject"] == "Forespørselen din er behandlet"]
    assert len(completed) == 1
    kinds = [x.kind for x in await letters(runtime)]
    assert kinds.count("completion") == 1


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_letter_that_cannot_be_sent_waits_and_is_sent_later(
    runtime,
    client,
    staff,
    clock,
    smtp,  # noqa: F811
):
    inbox, url = smtp
    runtime.mailer = Mailer(
        sender="personvern@firma.example",
        smtp_url=f"smtp://127.0.0.1:{_closed_port()}",
        outbox=runtime.settings.outbox_dir,
    )
    request_id = await file_verified(runtime, "access", email=PERSON)
    view = (await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])).json()
    [ack] = [x for x in view["letters"] if x["kind"] == "acknowledgement"]
    assert ack["status"] == "pending" and ack["attempts"] == 1
    assert "could not be sent" in ack["last_error"]
    assert await letter_outbox.deliver_due(runtime) == 0  # not due yet

    runtime.mailer = Mailer(sender="personvern@firma.example", smtp_url=url, outbox=Path("/x"))
    clock.advance(timedelta(hours=2))
    # The acknowledgement (no system is configured: nothing was searched, so the answer
    # waits for staff's statement and no completion letter exists yet).
    assert await letter_outbox.deliver_due(runtime) == 1
    assert [r for r, _m in inbox.messages] == [[PERSON]]
    ids = {m["Message-ID"] for _r, m in inbox.messages}
    assert f"<{ack['id']}@innsyn>" in ids
    view = (await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])).json()
    [ack] = [x for x in view["letters"] if x["kind"] == "acknowledgement"]
    assert (ack["status"], ack["attempts"], ack["last_error"]) == ("sent", 2, None)
    [row] = [x for x in await letters(runtime) if x.id == ack["id"]]
    assert row.content_ciphertext is None  # sent: the text and address are gone
    assert await letter_outbox.deliver_due(runtime) == 0


async def test_a_letter_is_sent_once_by_senders_racing_for_it(runtime, client, form_key, clock):
    runtime.mailer = Mailer(
        sender="x@example.no",
        smtp_url=f"smtp://127.0.0.1:{_closed_port()}",
        outbox=runtime.settings.outbox_dir,
    )
    await client.post(
        "/v1/requests", json={"kind": "access", "subject": {"email": PERSON}}, headers=form_key
    )
    runtime.mailer = Mailer(
        sender="x@example.no", smtp_url=None, outbox=runtime.settings.outbox_dir
    )
    clock.advance(timedelta(hours=2))
    sent = await asyncio.gather(*(letter_outbox.deliver_due(runtime) for _ in range(4)))
    assert sum(sent) == 1
    assert len(mails(runtime)) == 1


async def test_a_letter_out_of_attempts_is_failed_for_staff(runtime, client, staff, clock):
    runtime.mailer = Mailer(
        sender="x@example.no",
        smtp_url=f"smtp://127.0.0.1:{_closed_port()}",
        outbox=runtime.settings.outbox_dir,
    )
    request_id = await file_verified(runtime, "access", email=PERSON)
    for _ in range(letter_outbox.RETRY.attempts):
        clock.advance(timedelta(hours=2))
        await letter_outbox.deliver_due(runtime)
    view = (await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])).json()
    [ack] = [x for x in view["letters"] if x["kind"] == "acknowledgement"]
    assert (ack["status"], ack["attempts"]) == ("failed", letter_outbox.RETRY.attempts)


class _Refusing(Inbox):
    """A mail server that has no mailbox for one address (550 at RCPT TO)."""

    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused

    async def handle_RCPT(self, _server, _session, envelope, address, _options):  # type: ignore[no-untyped-def]
        if address == self.refused:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"


async def test_letters_sent_together_are_each_recorded_as_they_went(runtime, worker, client, staff):
    """Completion letters of requests finished together leave one by one and are settled
    together: one refused by the mail server waits for its retry, the others are sent."""
    from aiosmtpd.controller import Controller

    from tests.security.test_smtp_delivery import free_port

    bounced = "ingen.postkasse@example.no"
    inbox, port = _Refusing(bounced), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        runtime.mailer = Mailer(
            sender="personvern@firma.example",
            smtp_url=f"smtp://127.0.0.1:{port}",
            outbox=Path("/x"),
        )
        runtime.connectors = registry(MemorySystem("crm"))
        people = [PERSON, bounced, "ola.nordmann@example.no"]
        ids = [await file_verified(runtime, "access", email=e) for e in people]
        await worker.run_until_idle()
    finally:
        controller.stop()
    completion = {}
    for person, request_id in zip(people, ids, strict=True):
        view = (await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])).json()
        assert view["status"] == "completed"
        [letter] = [x for x in view["letters"] if x["kind"] == "completion"]
        completion[person] = (letter["status"], letter["sent_at"] is not None)
    assert completion == {
        PERSON: ("sent", True),
        "ola.nordmann@example.no": ("sent", True),
        bounced: ("pending", False),
    }
    got = sorted(m["Subject"] for r, m in inbox.messages if r == [PERSON])
    assert len(got) == 2  # the acknowledgement and the answer
