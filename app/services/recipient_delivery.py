"""Sending Art. 19 notices: by e-mail or signed webhook, retried with backoff, then left to
staff. Claimed through the leased outbox (``app.store.outbox``) like webhook deliveries,
so replicas never send one notice twice at once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import structlog

from app.db.models import RecipientNotice
from app.domain import letters
from app.domain.backoff import Backoff
from app.domain.deliveries import NOTICES, NoticeStatus
from app.domain.recipients import PUBLISHED_ERASURE, RecipientSpec
from app.infra.outbound import pinned_client
from app.runtime import Runtime
from app.security import SYSTEM
from app.services.recipient_notices import audit_notice
from app.services.webhook_delivery import signed_headers
from app.services.webhooks import check_url
from app.store.outbox import LeasedOutbox

log = structlog.get_logger(__name__)

RETRY = Backoff((60, 300, 1800, 7200, 21600))  # seconds after each failed attempt
OUTBOX = LeasedOutbox(
    RecipientNotice, NoticeStatus, NOTICES, lease=timedelta(seconds=120), backoff=RETRY
)

_ACTIONS = {
    "erasure": ("erased", "slettet"),
    "rectification": ("rectified", "rettet"),
    "restriction": ("restricted (storage only)", "begrenset (bare lagring)"),
    "restriction_lifted": ("no longer restricted", "ikke lenger begrenset"),
}


async def deliver_due(rt: Runtime, *, limit: int = 50) -> int:
    """Send the notices that are due; returns how many attempts were made."""
    claimed = await _claim(rt, limit)
    if not claimed:
        return 0
    async with pinned_client(
        allow_private=rt.settings.webhooks_allow_private,
        timeout=rt.settings.webhook_timeout_seconds,
    ) as client:
        for notice_id in claimed:
            await _attempt(rt, client, notice_id)
    return len(claimed)


async def _claim(rt: Runtime, limit: int) -> list[str]:
    return await OUTBOX.claim(rt.db, rt.clock.now(), limit=limit)


async def _attempt(rt: Runtime, client: httpx.AsyncClient, notice_id: str) -> None:
    async with rt.db.session() as session:
        notice = await session.get(RecipientNotice, notice_id)
        if (
            notice is None
            or notice.status != NoticeStatus.pending
            or notice.payload_ciphertext is None
        ):
            return
        message = rt.cipher.open(notice.payload_ciphertext, purpose=f"recipient:{notice.id}")
        assert isinstance(message, dict)
    spec = rt.recipients.specs.get(notice.recipient)
    error = (
        await _send(rt, client, spec, notice.id, message) if spec else "route no longer configured"
    )
    async with rt.db.session() as session:
        notice = await session.get(RecipientNotice, notice_id, with_for_update=True)
        if notice is None or notice.status != NoticeStatus.pending:
            return
        _settle(notice, error, rt.clock.now())
        session.add(notice)
        await session.flush()
        if notice.status != NoticeStatus.pending:
            await audit_notice(
                rt, session, notice, f"recipient_notice.{notice.status}", SYSTEM.actor
            )
    log.info("recipient_notice_attempt", notice_id=notice_id, ok=error is None, error=error)


def _settle(notice: RecipientNotice, error: str | None, now: datetime) -> None:
    OUTBOX.settle(notice, now, error).apply(notice)
    if notice.status == NoticeStatus.sent:
        notice.sent_at = now
    if notice.status != NoticeStatus.pending:
        notice.next_attempt_at = None


async def _send(
    rt: Runtime,
    client: httpx.AsyncClient,
    spec: RecipientSpec,
    notice_id: str,
    message: dict[str, Any],
) -> str | None:
    """None when sent; else a short error without personal data."""
    try:
        if spec.notify == "email" and spec.email:
            await rt.mailer.send(spec.email, recipient_letter(spec.language, message))
            return None
        if spec.notify == "webhook" and spec.url and spec.secret:
            return await _post(client, spec, notice_id, message)
    except Exception as exc:  # noqa: BLE001 - a failed attempt is recorded and retried
        return type(exc).__name__
    return f"notify {spec.notify} cannot be sent by Innsyn"


async def _post(
    client: httpx.AsyncClient,
    spec: RecipientSpec,
    notice_id: str,
    message: dict[str, Any],
) -> str | None:
    assert spec.url is not None and spec.secret is not None
    body = json.dumps(
        {"type": "recipient.notice", "timestamp": datetime.now(UTC).isoformat(), "data": message},
        separators=(",", ":"),
    )
    secret = spec.secret.get_secret_value()
    headers = signed_headers(secret, notice_id, body, agent="Innsyn-Notices/1")
    await check_url(spec.url, allow_private=True, require_https=False)  # the form; the client pins
    response = await client.post(spec.url, content=body, headers=headers)
    return None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"


def recipient_letter(language: str, message: dict[str, Any]) -> letters.Letter:
    """The e-mail to a recipient: what changed, for whom, and what to do (Art. 19)."""
    en = language == "en"
    if message.get("action") == PUBLISHED_ERASURE:
        return _published_letter(language, message)
    done = _ACTIONS.get(str(message.get("action")), (str(message.get("action")),) * 2)
    who = "\n".join(f"  {k}: {v}" for k, v in dict(message.get("subject") or {}).items())
    what = "\n".join(
        f"  {c['system']}: {c['category']}" for c in list(message.get("categories") or [])
    )
    values = "\n".join(f"  {k}: {v}" for k, v in dict(message.get("new_values") or {}).items())
    lines = [
        (
            f"We have {done[0]} personal data we have disclosed to you. Under GDPR Art. 19, "
            "please do the same in your systems."
            if en
            else f"Vi har {done[1]} personopplysninger vi har utlevert til dere. Etter "
            "personvernforordningen art. 19 ber vi dere gjøre det samme i deres systemer."
        ),
        ("The person:" if en else "Personen:") + "\n" + who,
        ("The data:" if en else "Opplysningene:") + "\n" + what,
    ]
    if values:
        lines.append(("Corrected values:" if en else "Rettede verdier:") + "\n" + values)
    lines.append(f"Reference {message.get('notice_id')} ({message.get('request_id')})")
    subject = "Personal data changed (GDPR Art. 19)" if en else "Endrede personopplysninger"
    return letters.Letter(subject, "\n\n".join(lines))


def _published_letter(language: str, message: dict[str, Any]) -> letters.Letter:
    """Art. 17(2): data we made public was erased; a controller processing it is asked to
    erase links to it and copies or replications of it."""
    en = language == "en"
    who = "\n".join(f"  {k}: {v}" for k, v in dict(message.get("subject") or {}).items())
    what = "\n".join(
        f"  {c['system']}: {c['category']}" for c in list(message.get("categories") or [])
    )
    lines = [
        (
            "A person has had us erase personal data that we had made public. Under GDPR "
            "Art. 17(2) we ask you to erase any links to this data and any copies or "
            "replications of it that you hold."
            if en
            else "En person har fått oss til å slette personopplysninger som vi hadde "
            "offentliggjort. Etter personvernforordningen art. 17 nr. 2 ber vi dere slette "
            "lenker til opplysningene og kopier eller gjengivelser av dem som dere har."
        ),
        ("The person:" if en else "Personen:") + "\n" + who,
        ("The data:" if en else "Opplysningene:") + "\n" + what,
        f"Reference {message.get('notice_id')} ({message.get('request_id')})"
        if en
        else f"Referanse {message.get('notice_id')} ({message.get('request_id')})",
    ]
    subject = (
        "Erased personal data that was made public (GDPR Art. 17(2))"
        if en
        else "Slettede personopplysninger som var offentliggjort"
    )
    return letters.Letter(subject, "\n\n".join(lines))
