"""Art. 19 notices: planned when a rectification, erasure or restriction completes; resolved
by staff where Innsyn cannot send them (an unknown route, a failed delivery).

Delivery is in ``recipient_delivery``. Every notice, sent or not, stays on the request with
its route and state, so the controller can show each recipient was told, or why not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import DsrRequest, RecipientNotice
from app.domain import recipients
from app.domain.deliveries import Event, NoticeStatus, next_status
from app.domain.errors import InvalidInput, InvalidTransition, NotFound
from app.domain.recipients import PlannedNotice, RecipientSpec
from app.ids import new_id
from app.runtime import Runtime
from app.schemas.recipients import NoticeView
from app.security import SYSTEM, Principal
from app.services import audit
from app.services.subjects import SubjectVault


class TaskOutcome(Protocol):
    """What a notice is planned from: one task's connector, action, status and result."""

    connector: str
    action: str
    status: str
    result: dict[str, Any] | None


Resolution = Literal["sent", "disproportionate", "retry"]
_SENDABLE = {"email", "webhook"}
_RESOLVED_BY = {
    "sent": Event.told_otherwise,
    "disproportionate": Event.disproportionate,
    "retry": Event.requeue,
}


async def plan(
    rt: Runtime, session: AsyncSession, request: DsrRequest, tasks: Sequence[TaskOutcome]
) -> list[RecipientNotice]:
    """One notice per recipient and action for what the request's tasks actually changed."""
    done = [t for t in tasks if t.status == "succeeded"]
    changes = [c for t in done for c in recipients.changes_in(t.connector, t.result)]
    if not changes:
        return []
    recipients_of = {
        (i.name, c.name): c.recipients
        for i in rt.connectors.active()
        for c in i.connector.categories()
    }
    succeeded = {t.connector for t in done}
    published_to = {
        (i.name, c.name): c.published_to
        for i in rt.connectors.active()
        for c in i.connector.categories()
        if c.published_to
    }
    planned = recipients.plan(changes, recipients_of, rt.recipients, succeeded)
    planned += recipients.plan_published(changes, published_to, rt.recipients, succeeded)
    now = rt.clock.now()
    rows = []
    for item in planned:
        row = RecipientNotice(
            id=new_id("rn"),
            request_id=request.id,
            recipient=item.recipient,
            notify=item.notify,
            action=item.action,
            changes=[
                {"connector": c.connector, "category": c.category, "fields": list(c.fields)}
                for c in item.changes
            ],
            status=item.status,
            reason=item.reason,
            created_at=now,
            next_attempt_at=now if item.status == "pending" else None,
            sent_at=now if item.status == "sent" else None,
        )
        spec = rt.recipients.specs.get(item.recipient)
        if spec is not None and item.status == "pending":
            message = _message(rt, request, row.id, item, spec)
            row.payload_ciphertext = rt.cipher.seal(message, purpose=f"recipient:{row.id}")
        session.add(row)
        rows.append(row)
        await audit_notice(rt, session, row, "recipient_notice.planned", SYSTEM.actor)
    return rows


def _message(
    rt: Runtime, request: DsrRequest, notice_id: str, item: PlannedNotice, spec: RecipientSpec
) -> dict[str, Any]:
    """What the recipient needs to act: whom (only the identifiers it is configured to get),
    which categories, and for a rectification the corrected values of the changed fields.
    Only proven identifiers are shared: a claimed one may be another person's."""
    vault = SubjectVault(rt.cipher)
    subject = vault.proven_subject(request)
    shared = {k: subject[k] for k in spec.share if subject.get(k)}
    fields = {f for c in item.changes for f in c.fields}
    corrections = vault.details(request).get("changes") or {}
    return {
        "notice_id": notice_id,
        "request_id": request.id,
        "action": item.action,
        "subject": shared,
        "categories": [{"system": c.connector, "category": c.category} for c in item.changes],
        "new_values": {k: v for k, v in corrections.items() if k in fields},
    }


async def audit_notice(
    rt: Runtime, session: AsyncSession, notice: RecipientNotice, action: str, actor: str
) -> None:
    """Audit a notice's change, and touch its request so dashboards polling with
    ``updated_since`` see it."""
    if action != "recipient_notice.planned":  # planned with the request's own change
        request = await session.get(DsrRequest, notice.request_id)
        if request is not None:
            request.updated_at = rt.clock.now()
            session.add(request)
    await audit.append(
        session,
        at=rt.clock.now(),
        actor=actor,
        action=action,
        request_id=notice.request_id,
        detail={
            "notice_id": notice.id,
            "recipient": notice.recipient,
            "notify": notice.notify,
            "status": notice.status,
        },
    )


async def for_request(session: AsyncSession, request: DsrRequest) -> dict[str, Any]:
    """The staff view's section: every notice with its route and state, no message."""
    rows = await session.exec(
        select(RecipientNotice)
        .where(RecipientNotice.request_id == request.id)
        .order_by(col(RecipientNotice.recipient), col(RecipientNotice.action))
    )
    return {"recipient_notices": [view(r).model_dump(mode="json") for r in rows]}


def view(notice: RecipientNotice) -> NoticeView:
    return NoticeView.model_validate(notice, from_attributes=True)


async def resolve(
    rt: Runtime,
    session: AsyncSession,
    request_id: str,
    notice_id: str,
    *,
    principal: Principal,
    resolution: Resolution,
    reason: str,
) -> RecipientNotice:
    """Staff record that the recipient was told another way, that telling it is impossible
    or disproportionate (with the reason: Art. 19 needs it documented), or send again."""
    notice = await session.get(RecipientNotice, notice_id, with_for_update=True)
    if notice is None or notice.request_id != request_id:
        raise NotFound(f"no notice {notice_id} on request {request_id}")
    current = NoticeStatus(notice.status)
    if current in (NoticeStatus.sent, NoticeStatus.disproportionate):
        raise InvalidTransition(f"the notice is already {notice.status}")
    now = rt.clock.now()
    status = next_status(current, _RESOLVED_BY[resolution])
    if resolution == "retry":
        if notice.notify not in _SENDABLE or notice.payload_ciphertext is None:
            raise InvalidInput("only an e-mail or webhook notice can be sent again")
        notice.status, notice.attempts, notice.next_attempt_at = status.value, 0, now
    else:
        notice.status = status.value
        notice.sent_at = now if resolution == "sent" else None
    notice.reason = reason
    notice.resolved_by = principal.actor
    session.add(notice)
    await session.flush()
    await audit_notice(rt, session, notice, "recipient_notice.resolved", principal.actor)
    return notice
