"""``/v1/audit``: the append-only trail, with hash-chain verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.deps import Auditor, SessionDep
from app.domain.errors import InvalidInput
from app.routers.responses import AUTH, problems
from app.schemas.audit import AuditEventView, AuditPage, ChainCheck
from app.services import audit

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", summary="Audit events", responses=problems(*AUTH, 422))
async def list_audit_events(
    session: SessionDep,
    _auditor: Auditor,
    request_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> AuditPage:
    """A request's events (or the service's own, without ``request_id``) and chain check."""
    stream = request_id or audit.SYSTEM_STREAM
    events = await audit.events_for(session, stream=stream)
    broken = audit.verify(events)
    after = 0
    if cursor is not None:
        if not cursor.isdigit():
            raise InvalidInput("cursor is not valid", field="cursor")
        after = int(cursor)
    page = [e for e in events if e.seq > after][:limit]
    more = bool(page) and page[-1].seq < events[-1].seq
    return AuditPage(
        stream=stream,
        chain=ChainCheck(verified=not broken, events=len(events), broken_at=broken),
        items=[AuditEventView.model_validate(e, from_attributes=True) for e in page],
        next_cursor=str(page[-1].seq) if more else None,
    )
