"""The person's letters leave through a durable outbox, after the change that causes them.

``queue`` writes the letter in the caller's transaction: a change that rolls back sends
nothing, and a transaction run again (a retried write-back) queues it again only in the run
that commits. Once the unit of work has committed, its letters are sent at once; what could
not be sent (the mail server is down, the process died) is sent by ``deliver_due``, a
scheduled sweep, with backoff, until it is sent or marked ``failed`` for staff to see. A
letter is claimed with a conditional update (pending → sending, under a lease), so two
senders never send the same one; after a crash between sending and recording, the lease
expires and it is sent again (at least once; the ``Message-ID`` stays the same).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.engine import after_commit
from app.db.models import DsrRequest, OutgoingLetter
from app.db.models.letters import LetterStatus
from app.domain.errors import InvalidTransition, NotFound
from app.domain.letters import Letter
from app.ids import new_id
from app.jobs.policy import RetryPolicy
from app.runtime import Runtime
from app.services import audit
from app.services.subjects import SubjectVault

log = structlog.get_logger(__name__)
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 8
RETRY = RetryPolicy(wait_initial=30.0, wait_max=3600.0, wait_jitter=10.0)
_QUEUED = "innsyn.letters_queued"


def _purpose(letter_id: str) -> str:
    return f"letter:{letter_id}"


async def tell(
    rt: Runtime, session: AsyncSession, request: DsrRequest, letter: Letter, *, kind: str
) -> OutgoingLetter:
    """Tell the person: by e-mail when the request has an address, else as a printable letter
    queued for staff to post (never silence, D9)."""
    email = SubjectVault(rt.cipher).subject(request).get("email")
    if email:
        return await queue(rt, session, request, str(email), letter, kind=kind)
    return _add(rt, session, request, None, letter, kind=kind, channel="post")


async def queue(
    rt: Runtime,
    session: AsyncSession,
    request: DsrRequest,
    to: str,
    letter: Letter,
    *,
    kind: str,
) -> OutgoingLetter:
    """Queue ``letter`` to ``to`` in this transaction; it leaves once the transaction commits."""
    row = _add(rt, session, request, to, letter, kind=kind, channel="email")
    queued: list[str] = session.info.setdefault(_QUEUED, [])
    queued.append(row.id)

    async def send_queued() -> None:
        await deliver(rt, list(queued))

    after_commit(session, "letters", send_queued)
    return row


def _add(
    rt: Runtime,
    session: AsyncSession,
    request: DsrRequest,
    to: str | None,
    letter: Letter,
    *,
    kind: str,
    channel: str,
) -> OutgoingLetter:
    now = rt.clock.now()
    row = OutgoingLetter(
        id=new_id("ltr"),
        request_id=request.id,
        kind=kind,
        channel=channel,
        status=(LetterStatus.pending if channel == "email" else LetterStatus.to_post).value,
        created_at=now,
        next_attempt_at=now,
    )
    row.content_ciphertext = rt.cipher.seal(
        {"to": to, "subject": letter.subject, "body": letter.body}, purpose=_purpose(row.id)
    )
    session.add(row)
    return row


async def printable(
    rt: Runtime, session: AsyncSession, request_id: str, letter_id: str
) -> tuple[OutgoingLetter, Letter]:
    """A letter waiting to be posted, to print."""
    row = await _letter_of(session, request_id, letter_id)
    if row.status != LetterStatus.to_post.value or row.content_ciphertext is None:
        raise InvalidTransition(
            f"only a letter waiting to be posted can be printed; it is {row.status}"
        )
    content = rt.cipher.open(row.content_ciphertext, purpose=_purpose(row.id))
    return row, Letter(subject=content["subject"], body=content["body"])


async def mark_posted(
    rt: Runtime, session: AsyncSession, request_id: str, letter_id: str, *, actor: str
) -> OutgoingLetter:
    """Staff posted the printed letter: it has left; only the facts stay."""
    row = await _letter_of(session, request_id, letter_id, for_update=True)
    if row.status != LetterStatus.to_post.value:
        raise InvalidTransition(
            f"only a letter waiting to be posted can be marked posted; it is {row.status}"
        )
    now = rt.clock.now()
    row.status = LetterStatus.posted.value
    row.sent_at = now
    row.content_ciphertext = None
    session.add(row)
    await _touch(session, request_id, now)
    await audit.append(
        session,
        at=now,
        actor=actor,
        action="letter.posted",
        request_id=request_id,
        detail={"letter_id": row.id, "kind": row.kind},
    )
    return row


async def _letter_of(
    session: AsyncSession, request_id: str, letter_id: str, *, for_update: bool = False
) -> OutgoingLetter:
    row = await session.get(OutgoingLetter, letter_id, with_for_update=for_update)
    if row is None or row.request_id != request_id:
        raise NotFound(f"request {request_id} has no letter {letter_id}")
    return row


async def deliver(rt: Runtime, letter_ids: Sequence[str]) -> int:
    """Send these letters now (each claimed first); returns how many left."""
    sent = 0
    for letter_id in letter_ids:
        row = await _claim(rt, letter_id)
        if row is not None:
            sent += await _send(rt, row)
    return sent


async def deliver_due(rt: Runtime, *, limit: int = 50) -> int:
    """Sweep: letters whose time has come, or whose sender's lease ran out."""
    now = rt.clock.now()
    async with rt.db.session() as session:
        rows = await session.exec(
            select(OutgoingLetter.id)
            .where(
                or_(
                    (col(OutgoingLetter.status) == LetterStatus.pending.value)
                    & (col(OutgoingLetter.next_attempt_at) <= now),
                    (col(OutgoingLetter.status) == LetterStatus.sending.value)
                    & (col(OutgoingLetter.lease_expires_at) < now),
                )
            )
            .order_by(col(OutgoingLetter.next_attempt_at))
            .limit(limit)
        )
        due = list(rows)
    return await deliver(rt, due)


async def _claim(rt: Runtime, letter_id: str) -> OutgoingLetter | None:
    """pending (or sending with an expired lease) → sending, by exactly one sender; the
    claimed row, or None when another sender has it or it has left."""
    now = rt.clock.now()
    async with rt.db.session() as session:
        result = await session.exec(
            update(OutgoingLetter)
            .where(
                col(OutgoingLetter.id) == letter_id,
                or_(
                    col(OutgoingLetter.status) == LetterStatus.pending.value,
                    (col(OutgoingLetter.status) == LetterStatus.sending.value)
                    & (col(OutgoingLetter.lease_expires_at) < now),
                ),
            )
            .values(
                status=LetterStatus.sending.value,
                lease_expires_at=now + LEASE,
                attempts=OutgoingLetter.attempts + 1,
            )
        )
        if not result.rowcount:
            return None
        row = await session.get(OutgoingLetter, letter_id)
        if row is not None:
            await _touch(session, row.request_id, now)  # "sending", one more attempt
        return row


async def _send(rt: Runtime, row: OutgoingLetter) -> int:
    letter_id = row.id
    assert row.content_ciphertext is not None
    content: dict[str, Any] = rt.cipher.open(row.content_ciphertext, purpose=_purpose(row.id))
    letter = Letter(subject=content["subject"], body=content["body"])
    try:
        await rt.mailer.send(content["to"], letter, message_id=f"<{letter_id}@innsyn>")
    except Exception as exc:  # noqa: BLE001 - any failure to send is retried later
        await _failed(rt, row, type(exc).__name__)
        return 0
    async with rt.db.session() as session:
        await session.exec(
            update(OutgoingLetter)
            .where(col(OutgoingLetter.id) == letter_id)
            .values(
                status=LetterStatus.sent.value,
                sent_at=rt.clock.now(),
                lease_expires_at=None,
                last_error=None,
                content_ciphertext=None,  # it has left: keep only the facts
            )
        )
        await _touch(session, row.request_id, rt.clock.now())
    return 1


async def _failed(rt: Runtime, row: OutgoingLetter, reason: str) -> None:
    now = rt.clock.now()
    out_of_attempts = row.attempts >= MAX_ATTEMPTS
    status = LetterStatus.failed if out_of_attempts else LetterStatus.pending
    log.warning("letter_not_sent", letter_id=row.id, error_type=reason, final=out_of_attempts)
    async with rt.db.session() as session:
        await session.exec(
            update(OutgoingLetter)
            .where(col(OutgoingLetter.id) == row.id)
            .values(
                status=status.value,
                lease_expires_at=None,
                last_error=f"the mail could not be sent ({reason})",
                next_attempt_at=now + timedelta(seconds=RETRY.delay(row.attempts)),
            )
        )
        await _touch(session, row.request_id, now)


async def _touch(session: AsyncSession, request_id: str, now: datetime) -> None:
    """A letter's change is a change of its request, for dashboards polling updated_since."""
    await session.exec(
        update(DsrRequest)
        .where(col(DsrRequest.id) == request_id)
        .values(updated_at=now, version=col(DsrRequest.version) + 1)
    )


async def for_request(session: AsyncSession, request_id: str) -> list[dict[str, Any]]:
    """What staff see of the person's letters: which, when, and whether they left."""
    rows = await session.exec(
        select(OutgoingLetter)
        .where(OutgoingLetter.request_id == request_id)
        .order_by(col(OutgoingLetter.created_at), col(OutgoingLetter.id))
    )
    return [
        {
            "id": r.id,
            "kind": r.kind,
            "channel": r.channel,
            "status": r.status,
            "attempts": r.attempts,
            "created_at": r.created_at,
            "sent_at": r.sent_at,
            "last_error": r.last_error,
        }
        for r in rows
    ]
