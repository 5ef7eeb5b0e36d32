"""``/v1/audit``: the append-only trail, its verification, and signed checkpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.db.models import AuditCheckpoint
from app.deps import Auditor, RuntimeDep, SessionDep
from app.domain.audit import Check, InvalidCheckpoint
from app.domain.errors import InvalidInput
from app.routers.responses import AUTH, problems
from app.schemas.audit import (
    AuditEventView,
    AuditFinding,
    AuditPage,
    ChainCheck,
    CheckpointPage,
    CheckpointView,
    TrailCheck,
)
from app.services import audit, audit_checkpoints, audit_trail
from app.store.pages import NUMBER, oldest_first

router = APIRouter(prefix="/v1/audit", tags=["audit"])


def _findings(check: Check) -> list[AuditFinding]:
    return [AuditFinding.model_validate(f, from_attributes=True) for f in check.findings]


@router.get("", summary="Audit events", responses=problems(*AUTH, 422))
async def list_audit_events(
    session: SessionDep,
    _auditor: Auditor,
    request_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    checkpoint: Annotated[
        str | None,
        Query(max_length=1000, description="a checkpoint kept elsewhere: verify from it"),
    ] = None,
    from_genesis: Annotated[
        bool, Query(description="verify the whole global chain, not from the latest checkpoint")
    ] = False,
) -> AuditPage:
    """A request's events (or the service's own, without ``request_id``), the check of its
    chain, and the check of the global chain from a checkpoint (given, else the latest
    stored one, else genesis) to its head."""
    stream = request_id or audit.SYSTEM_STREAM
    anchor = None
    if checkpoint is not None:
        try:
            anchor = audit.key_of(session).open(checkpoint)
        except InvalidCheckpoint as exc:
            raise InvalidInput(str(exc), field="checkpoint") from exc
    events = await audit.events_for(session, stream=stream)
    chain = await audit.check_stream_of(session, stream, events)
    trail = await audit_trail.check_trail(session, anchor, from_genesis=from_genesis)
    page = oldest_first(events, lambda e: e.seq, limit=limit, cursor=cursor, spelling=NUMBER)
    return AuditPage(
        stream=stream,
        chain=ChainCheck(
            verified=chain.verified,
            events=chain.events,
            broken_at=sorted({f.seq for f in chain.findings if f.seq is not None}),
            findings=_findings(chain),
        ),
        trail=TrailCheck(
            verified=trail.check.verified,
            anchor=trail.anchor,
            anchor_global_seq=trail.anchor_global_seq,
            head_global_seq=trail.head_global_seq,
            events_checked=trail.check.events,
            findings=_findings(trail.check),
        ),
        items=[AuditEventView.model_validate(e, from_attributes=True) for e in page.items],
        next_cursor=page.next_cursor,
    )


def _view(row: AuditCheckpoint, session: SessionDep) -> CheckpointView:
    key = audit.key_of(session)
    assert row.id is not None
    return CheckpointView(
        id=row.id,
        global_seq=row.global_seq,
        hash=row.hash,
        at=row.at,
        actor=row.actor,
        checkpoint=row.token,
        key_id=key.key_id,
        public_key=key.public_key,
    )


@router.post(
    "/checkpoints",
    summary="Take a signed checkpoint",
    status_code=201,
    responses=problems(*AUTH),
)
async def create_checkpoint(
    rt: RuntimeDep, session: SessionDep, auditor: Auditor
) -> CheckpointView:
    """Sign the global chain's head; store the ``checkpoint`` string outside Innsyn."""
    row = await audit_checkpoints.take(session, at=rt.clock.now(), actor=auditor.actor)
    return _view(row, session)


@router.get("/checkpoints", summary="Checkpoints taken", responses=problems(*AUTH, 422))
async def list_checkpoints(
    session: SessionDep,
    _auditor: Auditor,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
) -> CheckpointPage:
    """Newest first."""
    page = await audit_checkpoints.page(session, limit=limit, cursor=cursor)
    return CheckpointPage(
        items=[_view(r, session) for r in page.items], next_cursor=page.next_cursor
    )
