"""Review before release: an approver releases the answer, withholding what would reveal
other people's data (Art. 15(4)); the person is told only then."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import DsrRequest
from app.domain.errors import InvalidInput
from app.domain.requests import Action, RequestStatus, next_status, require_staff_role
from app.runtime import Runtime
from app.schemas.review import Redaction, ReleaseIn
from app.security import Principal
from app.services import notices, planning, redactions, reports, requests, webhooks


async def release(
    rt: Runtime, session: AsyncSession, request_id: str, *, principal: Principal, body: ReleaseIn
) -> DsrRequest:
    """Release a reviewed answer: redactions are kept sealed and applied to every format."""
    require_staff_role(Action.release, principal.roles)
    request = await requests.get(session, request_id, for_update=True)
    next_status(RequestStatus(request.status), Action.release)
    await _check(rt, session, request, body.redactions)
    if body.redactions:
        redactions.keep(rt, request, body.redactions)
    await requests.transition(
        rt,
        session,
        request,
        Action.release,
        principal,
        detail={"redactions": len(body.redactions)},
    )
    await webhooks.emit(rt, session, "request.completed", planning.request_event(request))
    await notices.completed(rt, session, request)
    return request


async def _check(
    rt: Runtime, session: AsyncSession, request: DsrRequest, withheld: list[Redaction]
) -> None:
    """Each redaction must name a record (and field) the answer has."""
    if not withheld:
        return
    report = await reports.build(rt, session, request)
    records = {
        (s.system, c.category, i): {f.key for f in r.fields}
        for s in report.systems
        for c in s.categories
        for i, r in enumerate(c.records)
    }
    for n, item in enumerate(withheld):
        keys = records.get((item.system, item.category, item.record))
        if keys is None or (item.field is not None and item.field not in keys):
            raise InvalidInput(
                "a redaction names a record or field the answer does not have",
                field=f"redactions.{n}",
            )
