"""The person's letters leave through a durable outbox, after the change that causes them.

``queue`` writes the letter in the caller's transaction: a change that rolls back sends
nothing, and a transaction run again (a retried write-back) queues it again only in the run
that commits. Once the unit of work has committed, its letters are sent at once (an API
call before its answer); what could
not be sent (the mail server is down, the process died) is sent by ``deliver_due``, a
scheduled sweep, with backoff, until it is sent or marked ``failed`` for staff to see. A
letter is claimed through the leased outbox (``app.store.outbox``: ``sending``, under a
lease; written so by the unit of work that sends it after its commit, or pending → sending
by the sweep), so two senders never send the same one; after a crash before sending or
between sending and recording, the lease expires and it is sent (again: at least once; the
``Message-ID`` stays the same).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import bindparam, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.engine import after_commit
from app.db.models import DsrRequest, OutgoingLetter
from app.domain.backoff import doubling
from app.domain.deliveries import LETTERS, Event, LetterStatus, next_status
from app.domain.errors import InvalidTransition, NotFound
from app.domain.letters import Letter
from app.ids import new_id
from app.runtime import Runtime
from app.services import audit
from app.services.subjects import SubjectVault
from app.store.outbox import LeasedOutbox

log = structlog.get_logger(__name__)
RETRY = doubling(30.0, 3600.0, attempts=8, jitter=0.1)
OUTBOX = LeasedOutbox(
    OutgoingLetter,
    LetterStatus,
    LETTERS,
    lease=timedelta(minutes=2),
    backoff=RETRY,
    counts_on_claim=True,  # a sender that died mid-send may have sent it
)
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
    """Queue ``letter`` to ``to`` in this transaction; it leaves once the transaction commits.
    The row is written already claimed by this unit of work (``sending``, under a lease), so
    sending it right after the commit needs no claim of its own; if the process dies before,
    the lease runs out and the ``letters`` job sends it."""
    row = _add(rt, session, request, to, letter, kind=kind, channel="email")
    OUTBOX.claim_new(row, rt.clock.now())
    queued: list[OutgoingLetter] = session.info.setdefault(_QUEUED, [])
    queued.append(row)

    async def send_queued() -> None:
        await _send_all(rt, session.info.pop(_QUEUED, []))

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
    row.status = next_status(LetterStatus(row.status), Event.post).value
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


async def deliver_due(rt: Runtime, *, limit: int = 50) -> int:
    """Sweep: letters whose time has come, or whose sender's lease ran out; one claimed at a
    time, so a slow mail server never lets a lease run out on a letter still waiting."""
    sent = 0
    for _ in range(limit):
        row = await _claim(rt)
        if row is None:
            break
        sent += await _send(rt, row)
    return sent


async def _claim(rt: Runtime) -> OutgoingLetter | None:
    """pending (or sending with an expired lease) → sending, by exactly one sender; the
    claimed row, or None when another sender has it or it has left."""
    now = rt.clock.now()
    claimed: list[OutgoingLetter] = []

    async def read(session: AsyncSession, letter_ids: list[str]) -> None:
        row = await session.get(OutgoingLetter, letter_ids[0])
        if row is not None:
            claimed.append(row)
            await _touch(session, row.request_id, now)  # "sending", one more attempt

    await OUTBOX.claim(rt.db, now, limit=1, then=read)
    return claimed[0] if claimed else None


async def _send(rt: Runtime, row: OutgoingLetter) -> int:
    return await _send_all(rt, [row])


async def _send_all(rt: Runtime, rows: list[OutgoingLetter]) -> int:
    """Send claimed letters one after the other, then record how each went in one unit of
    work (a write-back that finished twenty requests settles their twenty letters at once).
    Returns how many left."""
    if not rows:
        return 0
    tried = [(row, await _deliver(rt, row)) for row in rows]
    await _settle(rt, tried)
    return sum(1 for _row, reason in tried if reason is None)


async def _deliver(rt: Runtime, row: OutgoingLetter) -> str | None:
    """None once the letter has left, else why not (the error's type: no personal data)."""
    assert row.content_ciphertext is not None
    content: dict[str, Any] = rt.cipher.open(row.content_ciphertext, purpose=_purpose(row.id))
    letter = Letter(subject=content["subject"], body=content["body"])
    try:
        await rt.mailer.send(content["to"], letter, message_id=f"<{row.id}@innsyn>")
    except Exception as exc:  # noqa: BLE001 - any failure to send is retried later
        return type(exc).__name__
    return None


async def _settle(rt: Runtime, tried: list[tuple[OutgoingLetter, str | None]]) -> None:
    """Each letter sent (its address and text dropped: only the facts stay), or tried again
    later, or ``failed`` once out of attempts."""
    now = rt.clock.now()
    async with rt.db.session() as session:
        for row, reason in tried:
            error = None if reason is None else f"the mail could not be sent ({reason})"
            values = OUTBOX.settle(row, now, error).values()
            if reason is None:
                values.update(sent_at=now, content_ciphertext=None)
            else:
                final = values["status"] == LetterStatus.failed
                log.warning("letter_not_sent", letter_id=row.id, error_type=reason, final=final)
            await session.exec(
                update(OutgoingLetter).where(col(OutgoingLetter.id) == row.id).values(**values)
            )
        await _touch_all(session, {row.request_id for row, _reason in tried}, now)


async def _touch(session: AsyncSession, request_id: str, now: datetime) -> None:
    """A letter's change is a change of its request, for dashboards polling updated_since."""
    await _touch_all(session, {request_id}, now)


async def _touch_all(session: AsyncSession, request_ids: set[str], now: datetime) -> None:
    """Row by row in id order, as every unit of work locks requests: two never wait on
    each other in a circle."""
    connection = await session.connection()
    await connection.execute(
        update(DsrRequest)
        .where(col(DsrRequest.id) == bindparam("request_id"))
        .values(updated_at=now, version=col(DsrRequest.version) + 1),
        [{"request_id": request_id} for request_id in sorted(request_ids)],
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
