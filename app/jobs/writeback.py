"""Writing finished attempts back: a few statements per batch, not a few per task.

A request's fifty tasks finish within milliseconds of each other; the worker hands them over
together, and they are fenced, updated (one executemany), their collected data sealed and
inserted (one executemany), audited (one event per kind of change per request) and the
request moved on, in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.connectors.protocol import HoldFinding
from app.db import versions
from app.db.models import CollectedData, DsrRequest, Task
from app.db.models.tasks import TaskAction, TaskStatus, collected_purpose
from app.domain.attempts import after_interruption
from app.domain.requests import TERMINAL, RequestStatus
from app.ids import new_id
from app.jobs.execute import Failed, NeedsPerson, Outcome, Succeeded
from app.jobs.policy import RetryPolicy
from app.jobs.queue import Claim
from app.runtime import Runtime
from app.services import collected_files, planning, requests, webhooks
from app.services import holds as hold_service
from app.services.tasks import audit_tasks, task_event


@dataclass(frozen=True)
class AttemptReport:
    """What one claimed attempt came to, for the worker to write back."""

    claim: Claim
    owner: str
    outcome: Outcome
    files_started: int = 0  # files the attempt began to store (kept or not)


@dataclass(frozen=True)
class _Held:
    """The columns of a still-held task that the write-back reads."""

    id: str
    request_id: str
    connector: str
    action: str
    attempts: int
    max_attempts: int
    next_attempt_at: datetime
    result: dict[str, Any] | None
    checklist: dict[str, Any] | None
    interrupted_attempts: int


async def record_attempts(
    rt: Runtime, session: AsyncSession, reports: Sequence[AttemptReport], *, policy: RetryPolicy
) -> dict[str, str]:
    """Write back finished attempts; returns per task id what happened: ``succeeded``,
    ``retried``, ``failed``, ``manual``, ``cancelled`` (the request was closed meanwhile), or
    ``lost`` when another worker took the lease over (the result is discarded)."""
    by_request: dict[str, list[AttemptReport]] = {}
    for report in reports:
        by_request.setdefault(report.claim.request_id, []).append(report)
    # Lock order everywhere: request rows (in id order), then task rows.
    locked = {rid: await requests.get(session, rid, for_update=True) for rid in sorted(by_request)}
    versions.touch(session, locked)  # the tasks' new states show in each request's view
    held = await _held(session, reports)
    # Only a task run before can have a stored result: attempts only ever grow, and each
    # attempt writes back at most once (the fence above).
    stored = await _stored_blobs(session, [t.id for t in held.values() if t.attempts > 1])
    now = rt.clock.now()
    events: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    blobs: list[dict[str, Any]] = []
    changes: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for request_id in sorted(by_request):
        request = locked[request_id]
        for report in by_request[request_id]:
            task = held.get(report.claim.id)
            if task is None:
                events[report.claim.id] = "lost"
                continue
            event, values = _written(task, report, now, policy, request)
            events[task.id] = event
            rows.append(values)
            changes.setdefault(request_id, {}).setdefault(event, []).append(
                _detail(task, values, report.outcome)
            )
            await _side_effects(rt, session, request, task, report, now, blobs)
    await _write(session, rows, blobs, stored)
    for request_id, by_event in changes.items():
        request = locked[request_id]
        for event, details in by_event.items():
            await audit_tasks(rt, session, request_id, f"task.{event}", details)
        for failed in by_event.get("failed", []):
            await webhooks.emit(rt, session, "task.failed", task_event(request, failed))
        await planning.advance(rt, session, request)
    if any(r["status"] == TaskStatus.pending.value and r["next_attempt_at"] <= now for r in rows):
        await planning.wake_workers(rt, session)  # a retry that is due at once
    return events


async def _held(session: AsyncSession, reports: Sequence[AttemptReport]) -> dict[str, _Held]:
    """The reported tasks this worker still holds under the same attempt (the fence)."""
    statement = (
        sa_select(
            col(Task.id),
            col(Task.request_id),
            col(Task.connector),
            col(Task.action),
            col(Task.attempts),
            col(Task.max_attempts),
            col(Task.next_attempt_at),
            col(Task.result),
            col(Task.checklist),
            col(Task.interrupted_attempts),
            col(Task.status),
            col(Task.lease_owner),
        )
        .where(col(Task.id).in_([r.claim.id for r in reports]))
        .with_for_update()
    )
    connection = await session.connection()
    found = {r[0]: tuple(r) for r in await connection.execute(statement)}
    held = {}
    for report in reports:
        r = found.get(report.claim.id)
        if r is None or r[10] != TaskStatus.running.value or r[11] != report.owner:
            continue
        if r[4] != report.claim.attempt:
            continue
        held[r[0]] = _Held(*r[:10])
    return held


async def _stored_blobs(session: AsyncSession, task_ids: list[str]) -> set[str]:
    if not task_ids:
        return set()
    rows = await session.exec(
        select(CollectedData.task_id).where(col(CollectedData.task_id).in_(task_ids))
    )
    return set(rows)


def _written(
    task: _Held, report: AttemptReport, now: datetime, policy: RetryPolicy, request: DsrRequest
) -> tuple[str, dict[str, Any]]:
    """The event and the task's new column values (the same keys for every task, so all
    rows go out in one executemany)."""
    outcome = report.outcome
    values: dict[str, Any] = {
        "interrupted_attempts": task.interrupted_attempts,
        "id": task.id,
        "lease_owner": None,
        "lease_expires_at": None,
        "updated_at": now,
        "finished_at": now,
        "result": task.result,
        "checklist": task.checklist,
        "last_error": None,
        "error_kind": None,
        "next_attempt_at": task.next_attempt_at,
    }
    if isinstance(outcome, Succeeded):
        lift = bool(report.claim.params.get("lift"))
        result = after_interruption(
            task.action, outcome.result, task.interrupted_attempts, lift=lift
        )
        values |= {"status": TaskStatus.succeeded.value, "result": result}
        return "succeeded", values
    if isinstance(outcome, NeedsPerson):
        checklist = {"instructions": outcome.instructions, "items": outcome.checklist}
        values |= {"status": TaskStatus.manual.value, "checklist": checklist, "finished_at": None}
        return "manual", values
    return _failed(task, outcome, now, policy, values, request)


def _failed(
    task: _Held,
    outcome: Failed,
    now: datetime,
    policy: RetryPolicy,
    values: dict[str, Any],
    request: DsrRequest,
) -> tuple[str, dict[str, Any]]:
    failure = outcome.failure
    values |= {"last_error": failure.message, "error_kind": failure.kind}
    if failure.kind == "timeout":  # cut off mid-call: it may have acted all the same
        values["interrupted_attempts"] = task.interrupted_attempts + 1
    if RequestStatus(request.status) in TERMINAL:  # withdrawn or refused meanwhile
        return "cancelled", values | {"status": TaskStatus.cancelled.value}
    if failure.retryable and task.attempts < task.max_attempts:
        delay = policy.delay(task.attempts, retry_after=failure.retry_after)
        values |= {
            "status": TaskStatus.pending.value,
            "next_attempt_at": now + timedelta(seconds=delay),
            "finished_at": None,
        }
        return "retried", values
    return "failed", values | {"status": TaskStatus.failed.value}


def _detail(task: _Held, values: dict[str, Any], outcome: Outcome) -> dict[str, Any]:
    detail: dict[str, Any] = {
        "task_id": task.id,
        "connector": task.connector,
        "action": task.action,
        "attempt": task.attempts,
    }
    if isinstance(outcome, Failed):
        detail["error_kind"] = outcome.failure.kind
        if values["status"] == TaskStatus.pending.value:
            detail["next_attempt_at"] = values["next_attempt_at"].isoformat()
    return detail


async def _side_effects(
    rt: Runtime,
    session: AsyncSession,
    request: DsrRequest,
    task: _Held,
    report: AttemptReport,
    now: datetime,
    blobs: list[dict[str, Any]],
) -> None:
    """Seal what a collect found; store what a holds check found as legal holds."""
    outcome = report.outcome
    if not isinstance(outcome, Succeeded):
        return
    if outcome.collected is not None:
        kept = {
            f["id"] for r in outcome.collected["records"] for f in r.get("files", []) if "id" in f
        }
        # A first attempt whose every file is kept left nothing behind to remove.
        if task.attempts > 1 or report.files_started != len(kept):
            await collected_files.drop_other_attempts(session, task.id, kept)
        blobs.append(
            {
                "id": new_id("col"),
                "task_id": task.id,
                "request_id": task.request_id,
                "connector": task.connector,
                "record_count": len(outcome.collected.get("records", [])),
                "created_at": now,
                "ciphertext": rt.cipher.seal(
                    outcome.collected, purpose=collected_purpose(task.request_id, task.id)
                ),
            }
        )
    if task.action == TaskAction.holds.value:
        findings = [HoldFinding.model_validate(f) for f in outcome.result.get("findings", [])]
        await hold_service.record_findings(
            rt, session, request=request, connector=task.connector, findings=findings
        )


async def _write(
    session: AsyncSession,
    rows: list[dict[str, Any]],
    blobs: list[dict[str, Any]],
    stored: set[str],
) -> None:
    if rows:
        await session.exec(update(Task), params=rows)
    fresh = [b for b in blobs if b["task_id"] not in stored]
    if fresh:
        await session.exec(insert(CollectedData), params=fresh)
    for blob in blobs:  # a task run twice replaces its blob, it never adds one
        if blob["task_id"] in stored:
            await session.exec(
                update(CollectedData)
                .where(col(CollectedData.task_id) == blob["task_id"])
                .values(
                    ciphertext=blob["ciphertext"],
                    record_count=blob["record_count"],
                    created_at=blob["created_at"],
                )
            )
