"""Refusing part of a request (D9): one category, one system or one change is not done, with
a reason code that must fit the kind, an explanation, and the right to complain; the rest
of the request goes on. The letter and the answer state each part refused."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import DsrRequest, Task
from app.db.models.tasks import TaskAction, TaskStatus
from app.domain import kinds
from app.domain.errors import Conflict, InvalidInput, InvalidTransition
from app.domain.requests import Action, RequestKind, RequestStatus, require_staff_role
from app.runtime import Runtime
from app.schemas.requests import RefusePartIn
from app.security import Principal
from app.services import audit, requests
from app.services.subjects import SubjectVault

DETAIL = "refused_parts"  # in the sealed details: what the planner and the report leave out
NOTE = "refused_part_explanations"  # in the sealed notes: staff's words, for the letter
_OPEN = {
    RequestStatus.verified,
    RequestStatus.in_progress,
    RequestStatus.awaiting_manual,
    RequestStatus.awaiting_review,
}
_NOT_STARTED = {TaskStatus.pending.value, TaskStatus.needs_stronger_identity.value}


async def refuse_part(
    rt: Runtime, session: AsyncSession, request_id: str, *, principal: Principal, body: RefusePartIn
) -> DsrRequest:
    require_staff_role(Action.refuse, principal.roles)
    request = await requests.get(session, request_id, for_update=True)
    if RequestStatus(request.status) not in _OPEN:
        raise InvalidTransition(f"the request is {request.status}: only an open one")
    kind = RequestKind(request.kind)
    requests.check_refusal(kind, body.reason_code, body.evidence)
    vault = SubjectVault(rt.cipher)
    details = vault.details(request)
    part = await _part(rt, session, request, kind, details, body)
    details[DETAIL] = [*details.get(DETAIL, []), part]
    vault.store_details(request, details)
    notes = vault.notes(request)
    words = [*_explanations(notes), {"explanation": body.explanation, "evidence": body.evidence}]
    vault.add_note(request, NOTE, _dump(words))
    request.updated_at = rt.clock.now()
    session.add(request)
    await audit.append(
        session,
        at=request.updated_at,
        actor=principal.actor,
        action="request.partly_refused",
        request_id=request.id,
        detail=part,
    )
    return request


async def _part(
    rt: Runtime,
    session: AsyncSession,
    request: DsrRequest,
    kind: RequestKind,
    details: dict[str, Any],
    body: RefusePartIn,
) -> dict[str, Any]:
    """Check what is refused and take it out of the work still to do."""
    code = body.reason_code.value
    if kind is RequestKind.rectification:
        changes = dict(details.get("changes") or {})
        if not body.field or body.field not in changes:
            raise InvalidInput(
                "name the change refused (`field`, one of the changes)", field="field"
            )
        await _not_started(session, request.id, TaskAction.rectify, None)
        del changes[body.field]
        if not changes:
            raise InvalidInput(
                "that is every change: refuse the whole request instead", field="field"
            )
        details["changes"] = changes
        return {"field": body.field, "reason_code": code}
    instance = rt.connectors.get(body.system or "")
    if instance is None:
        raise InvalidInput("name the system refused (`system`)", field="system")
    if kind is RequestKind.restriction:
        tasks = await _not_started(session, request.id, TaskAction.restrict, instance.name)
        for task in tasks:
            task.status = TaskStatus.cancelled.value
            task.finished_at = task.updated_at = rt.clock.now()
            task.result = {"refused": code}
            session.add(task)
        return {"system": instance.name, "reason_code": code}
    declared = {c.name for c in instance.connector.categories()}
    if body.category not in declared:
        raise InvalidInput(f"{instance.name} has no category {body.category!r}", field="category")
    if kinds.policy(kind).erasing:
        for task in await _not_started(session, request.id, TaskAction.erase, instance.name):
            params = dict(task.params)
            params["categories"] = [c for c in params.get("categories", []) if c != body.category]
            params["refused"] = [*params.get("refused", []), body.category]
            task.params = params
            session.add(task)
    return {"system": instance.name, "category": body.category, "reason_code": code}


async def _not_started(
    session: AsyncSession, request_id: str, action: TaskAction, connector: str | None
) -> list[Task]:
    """The request's tasks of ``action`` (of ``connector``); refusing part of one that has
    already run is too late."""
    query = select(Task).where(Task.request_id == request_id, Task.action == action.value)
    if connector is not None:
        query = query.where(Task.connector == connector)
    tasks = list(await session.exec(query.with_for_update()))
    if any(t.status not in _NOT_STARTED for t in tasks):
        raise Conflict("that part has already been carried out: it can no longer be refused")
    return tasks


def refused(details: dict[str, Any]) -> list[dict[str, Any]]:
    """The parts refused so far (no personal data: system, category or field, code)."""
    return list(details.get(DETAIL, []))


def with_explanations(rt: Runtime, request: DsrRequest) -> list[dict[str, Any]]:
    """Each part refused with staff's explanation, in the order refused."""
    vault = SubjectVault(rt.cipher)
    parts = refused(vault.details(request))
    words = _explanations(vault.notes(request))
    return [p | (words[i] if i < len(words) else {}) for i, p in enumerate(parts)]


def _explanations(notes: dict[str, str]) -> list[dict[str, Any]]:
    raw = notes.get(NOTE)
    return list(json.loads(raw)) if raw else []


def _dump(items: list[dict[str, Any]]) -> str:
    return json.dumps(items, ensure_ascii=False)
