"""Use cases on tasks: record an attempt, retry, close by hand, cancel, and the staff view.

Every change locks the request row first (then the audit stream's lock), always in that
order and, for several requests, in id order: two workers never deadlock, and the request's
state is decided by whoever commits last, seeing every task.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import CollectedData, DsrRequest, Task
from app.db.models.tasks import TaskAction, TaskStatus, collected_purpose
from app.domain import findings
from app.domain.errors import InvalidInput, InvalidTransition, NotFound, NotPermitted
from app.domain.findings import Attachment, Finding
from app.domain.requests import TERMINAL, RequestStatus, Role
from app.ids import new_id
from app.jobs.queue import abandoned_on_last_attempt, still_abandoned
from app.runtime import Runtime
from app.security import SYSTEM, Principal
from app.services import audit, collected_files, planning, requests, webhooks

CLOSABLE = frozenset({TaskStatus.manual, TaskStatus.failed})
CANCELLABLE = (
    TaskStatus.pending.value,
    TaskStatus.manual.value,
    TaskStatus.failed.value,
    TaskStatus.needs_stronger_identity.value,
)
_STAFF_ROLES = frozenset({Role.operator})


def task_detail(task: Task) -> dict[str, Any]:
    """How an audit event names a task: ids and names, never personal data."""
    return {
        "task_id": task.id,
        "connector": task.connector,
        "action": task.action,
        "attempt": task.attempts,
    }


async def collected_for(rt: Runtime, session: AsyncSession, request_id: str) -> dict[str, Any]:
    """The records collected for a request, per connector (for the report; personal data)."""
    rows = await session.exec(select(CollectedData).where(CollectedData.request_id == request_id))
    return {
        row.connector: rt.cipher.open(
            row.ciphertext, purpose=collected_purpose(row.request_id, row.task_id)
        )
        for row in rows
    }


def task_event(request: DsrRequest, detail: dict[str, Any]) -> dict[str, Any]:
    """The ``task.failed`` webhook payload: ids, names and the error kind, no personal data."""
    return {"request_id": request.id, "kind": request.kind} | {
        k: detail[k] for k in ("task_id", "connector", "action", "error_kind") if k in detail
    }


async def audit_tasks(
    rt: Runtime,
    session: AsyncSession,
    request_id: str,
    action: str,
    tasks: list[dict[str, Any]],
    actor: str = SYSTEM.actor,
) -> None:
    """One event per kind of change per transaction, listing the tasks it changed."""
    await audit.append(
        session,
        at=rt.clock.now(),
        actor=actor,
        action=action,
        request_id=request_id,
        detail={"tasks": tasks},
    )


async def fail_abandoned(rt: Runtime, session: AsyncSession) -> int:
    """Fail tasks whose worker vanished during their last attempt (crash, OOM kill)."""
    failed = 0
    for candidate in await abandoned_on_last_attempt(session, now=rt.clock.now()):
        request = await requests.get(session, candidate.request_id, for_update=True)
        now = rt.clock.now()
        task = await still_abandoned(session, candidate.id, now=now)
        if task is None:
            continue
        task.status = TaskStatus.failed.value
        task.finished_at = task.updated_at = now
        task.lease_owner = task.lease_expires_at = None
        task.error_kind = "lost"
        task.interrupted_attempts += 1  # it may have acted: a retry by hand must know
        task.last_error = "the worker running the last attempt stopped before it finished"
        session.add(task)
        detail = task_detail(task) | {"error_kind": "lost"}
        await audit_tasks(rt, session, task.request_id, "task.failed", [detail])
        await webhooks.emit(rt, session, "task.failed", task_event(request, detail))
        await planning.advance(rt, session, request)
        failed += 1
    return failed


async def _task_of(session: AsyncSession, request_id: str, task_id: str) -> Task:
    task = await session.get(Task, task_id, with_for_update=True)
    if task is None or task.request_id != request_id:
        raise NotFound(f"request {request_id} has no task {task_id}")
    return task


def _require_operator(principal: Principal) -> None:
    if not principal.has_any(_STAFF_ROLES):
        raise NotPermitted("this needs the operator role")


async def retry(
    rt: Runtime, session: AsyncSession, request_id: str, task_id: str, *, principal: Principal
) -> Task:
    """Run a failed task again, with a fresh budget of attempts."""
    _require_operator(principal)
    request = await requests.get(session, request_id, for_update=True)
    task = await _task_of(session, request_id, task_id)
    if task.status != TaskStatus.failed.value:
        raise InvalidTransition(f"only a failed task can be retried; this one is {task.status}")
    if RequestStatus(request.status) in TERMINAL:
        raise InvalidTransition(f"the request is {request.status}")
    instance = rt.connectors.get(task.connector)
    budget = instance.max_attempts if instance else max(1, task.max_attempts)
    now = rt.clock.now()
    task.status = TaskStatus.pending.value
    task.max_attempts = task.attempts + max(1, budget)
    task.next_attempt_at = task.updated_at = now
    task.finished_at = None
    session.add(task)
    await audit_tasks(
        rt, session, request_id, "task.retry_requested", [task_detail(task)], actor=principal.actor
    )
    await planning.advance(rt, session, request)
    await planning.wake_workers(rt, session)
    return task


async def complete_by_hand(
    rt: Runtime,
    session: AsyncSession,
    request_id: str,
    task_id: str,
    *,
    principal: Principal,
    answers: dict[str, bool],
    note: str | None,
    not_possible: str | None = None,
    found: tuple[Sequence[Finding], Sequence[Attachment]] = ((), ()),
) -> Task:
    """Close a manual task with its checklist done, or a failed one done by hand; or end
    either as not possible, with the reason the person is told. What was found by hand is
    sealed like collected data and reported like any system's."""
    _require_operator(principal)
    request = await requests.get(session, request_id, for_update=True)
    task = await _task_of(session, request_id, task_id)
    if TaskStatus(task.status) not in CLOSABLE:
        raise InvalidTransition(
            f"only a manual or failed task can be closed; this is {task.status}"
        )
    if RequestStatus(request.status) in TERMINAL:
        raise InvalidTransition(f"the request is {request.status}")
    _check_answers(task, answers, note, not_possible)
    records = _found_records(rt, task, *found)
    now = rt.clock.now()
    previous = task.status
    task.status = (TaskStatus.not_possible if not_possible else TaskStatus.succeeded).value
    task.finished_at = task.updated_at = now
    task.result = {
        **(task.result or {}),
        "closed_by_hand": True,
        "was": previous,
        "answers": answers,
    }
    if not_possible:
        task.result["not_possible"] = not_possible
    if records is not None:
        task.result |= {"records": len(records), "categories": findings.counts(records)}
        await _store_scans(rt, session, task, records, found[1])
        await _store_found(rt, session, task, records, now)
    if note:
        task.note_ciphertext = rt.cipher.seal(note, purpose=f"task-note:{task.id}")
    session.add(task)
    detail = task_detail(task) | {
        "was": previous,
        "answered": len(answers),
        "not_possible": bool(not_possible),
        "findings": len(found[0]),
        "files": len(found[1]),
    }
    await audit_tasks(
        rt, session, request_id, "task.manual_completed", [detail], actor=principal.actor
    )
    await planning.advance(rt, session, request)
    return task


def _found_records(
    rt: Runtime, task: Task, items: Sequence[Finding], files: Sequence[Attachment]
) -> list[dict[str, Any]] | None:
    """The records of what was found by hand, or None when nothing was recorded."""
    if not items and not files:
        return None
    if task.action != TaskAction.collect.value:
        raise InvalidInput(
            f"findings belong to a collect task (access, portability); this task is {task.action}",
            field="findings",
        )
    instance = rt.connectors.get(task.connector)
    declared = [c.name for c in instance.connector.categories()] if instance else []
    return findings.records(items, files, declared)


async def _store_scans(
    rt: Runtime,
    session: AsyncSession,
    task: Task,
    records: list[dict[str, Any]],
    files: Sequence[Attachment],
) -> None:
    """Scans become files of their records, like a mailbox's attachments: in the zip download,
    listed in the answer. Files of an earlier closing of the same task are replaced."""
    await collected_files.drop_other_attempts(session, task.id, [])
    by_id = {r["id"]: r for r in records}
    for n, file in enumerate(files, start=1):
        stored = await collected_files.store_bytes(
            rt,
            session,
            request_id=task.request_id,
            task_id=task.id,
            name=file.file_name,
            media_type=file.content_type,
            content=findings.content(file, n),
        )
        by_id[f"file-{n}"]["files"] = [stored.ref()]


async def _store_found(
    rt: Runtime, session: AsyncSession, task: Task, records: list[dict[str, Any]], now: datetime
) -> None:
    """Sealed like a connector's collected data (one blob per task, replaced if any)."""
    blob = {"records": records, "external_controller": None, "self_service_url": None}
    sealed = rt.cipher.seal(blob, purpose=collected_purpose(task.request_id, task.id))
    row = (
        await session.exec(select(CollectedData).where(CollectedData.task_id == task.id))
    ).first()
    if row is None:
        row = CollectedData(
            id=new_id("col"),
            task_id=task.id,
            request_id=task.request_id,
            connector=task.connector,
            created_at=now,
            ciphertext=sealed,
        )
    row.record_count = len(records)
    row.ciphertext = sealed
    row.created_at = now
    session.add(row)


NOT_SEARCHED = "identity_not_proven"


async def skip_unproven(
    rt: Runtime,
    session: AsyncSession,
    request_id: str,
    task_id: str,
    *,
    principal: Principal,
    note: str,
) -> Task:
    """Go on without a system the person has not proven enough for: its tasks (they all wait
    for the same proof) end as cancelled, marked not searched, so the answer says so."""
    _require_operator(principal)
    request = await requests.get(session, request_id, for_update=True)
    task = await _task_of(session, request_id, task_id)
    if task.status != TaskStatus.needs_stronger_identity.value:
        raise InvalidTransition(
            f"only a task waiting for a stronger proof of identity can be skipped; this one is "
            f"{task.status}"
        )
    if RequestStatus(request.status) in TERMINAL:
        raise InvalidTransition(f"the request is {request.status}")
    siblings = await session.exec(
        select(Task)
        .where(
            Task.request_id == request_id,
            Task.connector == task.connector,
            Task.status == TaskStatus.needs_stronger_identity.value,
        )
        .with_for_update()
    )
    now = rt.clock.now()
    skipped = []
    for waiting in siblings:
        waiting.status = TaskStatus.cancelled.value
        waiting.finished_at = waiting.updated_at = now
        waiting.result = {"not_searched": NOT_SEARCHED}
        waiting.note_ciphertext = rt.cipher.seal(note, purpose=f"task-note:{waiting.id}")
        session.add(waiting)
        skipped.append(task_detail(waiting))
    await audit_tasks(rt, session, request_id, "task.skipped", skipped, actor=principal.actor)
    await planning.advance(rt, session, request)
    return task


def _check_answers(
    task: Task, answers: dict[str, bool], note: str | None, not_possible: str | None
) -> None:
    """Every item answered, and only those; an item answered false is not done, so the task
    stays open unless it ends as not possible (with the reason)."""
    items = list((task.checklist or {}).get("items", []))
    if task.status == TaskStatus.manual.value:
        missing = [i for i in items if i not in answers]
        unknown = [a for a in answers if a not in items]
        if missing or unknown:
            raise InvalidInput(
                f"answer every checklist item and only those ({len(missing)} missing, "
                f"{len(unknown)} unknown)",
                field="answers",
                missing=missing,
                unknown=unknown,
            )
        not_done = [i for i in items if answers.get(i) is False]
        if not_done and not not_possible:
            raise InvalidInput(
                f"{len(not_done)} checklist item(s) answered false are not done: the task "
                "stays open. Finish them, or end the task as not possible with "
                "not_possible_reason",
                field="answers",
                not_done=not_done,
            )
    elif not note and not not_possible:
        raise InvalidInput(
            "closing a failed task by hand needs a note saying what was done", field="note"
        )


async def cancel_open_tasks(
    rt: Runtime, session: AsyncSession, request_id: str, *, actor: str = SYSTEM.actor
) -> int:
    """The request was withdrawn or refused: what has not run will not run. A task already
    running finishes and is recorded (the work happened)."""
    rows = await session.exec(
        select(Task)
        .where(Task.request_id == request_id, col(Task.status).in_(CANCELLABLE))
        .with_for_update()
    )
    now = rt.clock.now()
    cancelled = []
    for task in rows:
        task.status = TaskStatus.cancelled.value
        task.finished_at = task.updated_at = now
        session.add(task)
        cancelled.append(task_detail(task))
    if cancelled:
        await audit_tasks(rt, session, request_id, "task.cancelled", cancelled, actor=actor)
    return len(cancelled)


async def cancel_for_closed_requests(rt: Runtime, session: AsyncSession, *, limit: int = 50) -> int:
    """Sweep: cancel open tasks of requests that were closed (withdrawn, refused) meanwhile."""
    closed = [s.value for s in TERMINAL]
    request_ids = (
        await session.exec(
            select(Task.request_id)
            .join(DsrRequest, col(DsrRequest.id) == col(Task.request_id))
            .where(col(Task.status).in_(CANCELLABLE), col(DsrRequest.status).in_(closed))
            .distinct()
            .limit(limit)
        )
    ).all()
    total = 0
    for request_id in sorted(request_ids):
        await requests.get(session, request_id, for_update=True)
        total += await cancel_open_tasks(rt, session, request_id)
    return total


def task_view(task: Task) -> dict[str, Any]:
    """What staff see of a task: state, attempts, the classified error, timings."""
    duration = None
    if task.started_at and task.finished_at:
        duration = round((task.finished_at - task.started_at).total_seconds(), 3)
    return {
        "id": task.id,
        "connector": task.connector,
        "action": task.action,
        "phase": task.phase,
        "status": task.status,
        "attempts": task.attempts,
        "interrupted_attempts": task.interrupted_attempts,
        "max_attempts": task.max_attempts,
        "last_error": task.last_error,
        "error_kind": task.error_kind,
        "created_at": task.created_at,
        "started_at": task.started_at,
        "last_attempt_at": task.last_attempt_at,
        "finished_at": task.finished_at,
        "next_attempt_at": task.next_attempt_at if task.status == "pending" else None,
        "duration_seconds": duration,
        "result": task.result,
        "checklist": task.checklist,
    }


async def task_section(session: AsyncSession, request: DsrRequest) -> dict[str, Any]:
    return {"tasks": [task_view(t) for t in await planning.tasks_of(session, request.id)]}
