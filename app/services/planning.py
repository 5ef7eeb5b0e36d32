"""The planner: which connector does what for a request, and what happens when tasks settle.

When a request becomes verified, ``start`` (called by the flows, in the same transaction)
starts it and creates one task per connector × action its kind needs. Every time
a task changes, ``advance`` moves the request on: the erasure phase after the holds checks,
``awaiting_manual`` while a person is needed, ``completed`` with an outcome per connector.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import event, func, insert
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.connectors.protocol import Capability
from app.connectors.registry import ConnectorInstance
from app.db import versions
from app.db.models import DsrRequest, Task
from app.db.models.tasks import TaskAction, TaskStatus
from app.domain import erasure_plan, kinds, objections
from app.domain.erasure_plan import CategoryFacts
from app.domain.identity import IdentifierKind, Identity
from app.domain.kinds import ERASING_KINDS, FirstStep
from app.domain.requests import Action, RequestKind, RequestStatus
from app.ids import new_id
from app.jobs.policy import DONE, request_status_for
from app.jobs.queue import notify
from app.runtime import Runtime
from app.security import SYSTEM, Principal
from app.services import (
    audit,
    notices,
    partial_refusals,
    recipient_notices,
    requests,
    webhooks,
)
from app.services import holds as hold_service
from app.services.recipient_notices import TaskOutcome
from app.services.subjects import SubjectVault

HOLDS_PHASE = 1
ERASE_PHASE = 2
WAITING = TaskStatus.needs_stronger_identity.value
_WAKE_FLAG = "innsyn.wake_workers"
NO_CONNECTORS = "no configured connector handles this kind of request"
NO_CONNECTOR_CONFIGURED = "no connector is configured: no system was searched"
EVERY_SYSTEM_LEFT_OUT = "every system was left out: none was searched"
NewTask = dict[str, Any]


async def start(rt: Runtime, session: AsyncSession, request: DsrRequest) -> None:
    """Start the request and plan its first tasks, in the verifying transaction."""
    await requests.transition(rt, session, request, Action.start, SYSTEM)
    tasks = await first_tasks(rt, session, request)
    await add_tasks(rt, session, tasks)
    await notices.identity_needed(rt, session, request, step_up_systems(rt, request, tasks))
    # A request just started has no tasks but these: no need to count them in the database.
    counts = Counter((int(t["phase"]), str(t["status"])) for t in tasks)
    await advance(rt, session, request, counts=dict(counts))


def step_up_systems(rt: Runtime, request: DsrRequest, first: Sequence[NewTask]) -> list[str]:
    """The systems this request reaches that wait for a stronger proof of identity: those
    with a waiting first task, and (erasing kinds) those its erase phase will reach."""
    names = {t["connector"] for t in first if t["status"] == WAITING}
    kind = RequestKind(request.kind)
    if kind in ERASING_KINDS:
        proven = Identity.from_json(request.identity)
        details = SubjectVault(rt.cipher).details(request)
        for instance in _able(_in_scope(rt.connectors.active(), details), Capability.erase):
            if not _identity_enough(proven, instance) and _erasure_scope(kind, instance, details):
                names.add(instance.name)
    return sorted(names)


def _identity_enough(proven: Identity, instance: ConnectorInstance) -> bool:
    return proven.satisfies(IdentifierKind(k) for k in instance.required_identity)


async def release_waiting(rt: Runtime, session: AsyncSession, request: DsrRequest) -> int:
    """The person proved more: tasks that waited for it run now. Erase tasks are planned
    again first (their system's holds check has to run before anything is erased)."""
    proven = Identity.from_json(request.identity)
    rows = await session.exec(
        select(Task).where(Task.request_id == request.id, Task.status == WAITING).with_for_update()
    )
    now = rt.clock.now()
    released = []
    for task in rows:
        instance = rt.connectors.get(task.connector)
        if instance is None or task.phase == ERASE_PHASE or not _identity_enough(proven, instance):
            continue
        task.status = TaskStatus.pending.value
        task.next_attempt_at = task.updated_at = now
        session.add(task)
        released.append({"task_id": task.id, "connector": task.connector, "action": task.action})
    if released:
        await audit.append(
            session,
            at=now,
            actor=SYSTEM.actor,
            action="task.identity_released",
            request_id=request.id,
            detail={"tasks": released},
        )
        await wake_workers(rt, session)
    await advance(rt, session, request)
    return len(released)


async def first_tasks(rt: Runtime, session: AsyncSession, request: DsrRequest) -> list[NewTask]:
    kind = RequestKind(request.kind)
    step = kinds.policy(kind)
    details = SubjectVault(rt.cipher).details(request)
    instances = _in_scope(rt.connectors.active(), details)
    if step.first_step is FirstStep.collect:
        return [
            _collect(rt, request, kind, i)
            for i in _able(instances, Capability.collect)
            if not step.portable_only or erasure_plan.portable(_facts(i))
        ]
    if step.first_step is FirstStep.rectify:
        return [
            new_task(rt, request, i, TaskAction.rectify)
            for i in _able(instances, Capability.rectify)
        ]
    if step.first_step is FirstStep.restrict:
        lift = bool(details.get("lift", False))
        tasks = [
            new_task(rt, request, i, TaskAction.restrict, params={"lift": lift})
            for i in _able(instances, Capability.restrict)
        ]
        if isinstance(details.get("not_before"), str):  # a lift waits for the date announced
            not_before = datetime.fromisoformat(details["not_before"])
            for task in tasks:
                task["next_attempt_at"] = max(task["next_attempt_at"], not_before)
        return tasks
    reached = [i for i in instances if _erasure_scope(kind, i, details)]
    holds = [
        new_task(rt, request, i, TaskAction.holds, phase=HOLDS_PHASE)
        for i in _able(instances, Capability.holds)
        if kind is RequestKind.erasure or i in reached
    ]
    if not reached:
        return []
    return holds or await erase_tasks(rt, session, request)


def _in_scope(
    instances: list[ConnectorInstance], details: dict[str, Any]
) -> list[ConnectorInstance]:
    """A follow-up erasure (a hold ended) concerns the hold's connector only (every one for
    a hold placed on all of them)."""
    follow_up = details.get("follow_up")
    if not isinstance(follow_up, dict) or follow_up.get("connector") == "*":
        return instances
    return [i for i in instances if i.name == follow_up.get("connector")]


def _erasure_scope(
    kind: RequestKind, instance: ConnectorInstance, details: dict[str, Any]
) -> list[str]:
    """The categories of one system an erasing request reaches: by kind (all, marketing,
    consent-based), narrowed for a 21(1) objection that was upheld (processing on 6(1)(e)/(f),
    maybe only the categories the approver named) and for a follow-up after a hold ended."""
    facts = _facts(instance)
    if kind is RequestKind.objection and not objections.covers_marketing(
        objections.purposes_of(details)
    ):
        return []  # a 21(1) objection only: nothing stops before the approver decides
    scope = erasure_plan.in_scope(kind, facts)
    upheld = details.get("objection_upheld")
    if isinstance(upheld, dict):
        objectable = {f.name for f in facts if f.objectable}
        only = upheld.get("categories") or None
        scope = objections.narrowed([c for c in scope if c in objectable], only)
    follow_up = details.get("follow_up")
    if isinstance(follow_up, dict):
        scope = [c for c in scope if c in follow_up.get("categories", [])]
    refused = {(p.get("system"), p.get("category")) for p in partial_refusals.refused(details)}
    return [c for c in scope if (instance.name, c) not in refused]


def _collect(
    rt: Runtime, request: DsrRequest, kind: RequestKind, instance: ConnectorInstance
) -> NewTask:
    params: dict[str, Any] = {}
    if kinds.policy(kind).portable_only:
        params["only_categories"] = erasure_plan.portable(_facts(instance))
    return new_task(rt, request, instance, TaskAction.collect, params=params)


async def erase_tasks(
    rt: Runtime, session: AsyncSession, request: DsrRequest, *, only: set[str] | None = None
) -> list[NewTask]:
    """Phase 2 of an erasing request: per connector, erase what is in scope and not held by
    an active hold (found by a connector in phase 1, or placed by staff)."""
    kind = RequestKind(request.kind)
    details = SubjectVault(rt.cipher).details(request)
    tasks = []
    for instance in _able(_in_scope(rt.connectors.active(), details), Capability.erase):
        if only is not None and instance.name not in only:
            continue
        scope = _erasure_scope(kind, instance, details)
        if not scope:
            continue
        holds = await hold_service.holds_for(session, request, instance.name)
        # A company policy without an Art. 17(3) ground is a schedule, not an exemption.
        holds = [h for h in holds if rt.hold_catalogue.blocks_erasure(h.basis_code)]
        plan = erasure_plan.plan(scope, holds)
        restriction = _held_restriction(rt, request, kind, instance, bool(holds), details)
        held = [
            h.as_result() | ({"restricted": True} if restriction and holds else {})
            for h in plan.held
        ]
        task = new_task(
            rt,
            request,
            instance,
            TaskAction.erase,
            phase=ERASE_PHASE,
            params={"categories": list(plan.erase), "held": held},
        )
        if plan.nothing_to_erase and task["status"] != WAITING:  # record the holds at once
            task["status"] = TaskStatus.succeeded.value
            task["finished_at"] = task["created_at"]
            task["result"] = {"categories": held, "skipped": "every category in scope is held"}
        tasks.append(task)
        if restriction is not None:
            tasks.append(restriction)
    return tasks


def _held_restriction(
    rt: Runtime,
    request: DsrRequest,
    kind: RequestKind,
    instance: ConnectorInstance,
    held: bool,
    details: dict[str, Any],
) -> NewTask | None:
    """Data kept only because of a hold may be stored, not used (Art. 18(2) by analogy): a
    system that can restrict marks what an erasure leaves under a hold, and lifts the mark when
    the follow-up erases it. Only a full erasure: after it, all that is left there is held."""
    if kind is not RequestKind.erasure or Capability.restrict not in instance.capabilities:
        return None
    follow_up = details.get("follow_up")
    if not held and not isinstance(follow_up, dict):
        return None
    return new_task(
        rt,
        request,
        instance,
        TaskAction.restrict,
        phase=ERASE_PHASE,
        params={"lift": not held, "held": True},
    )


def new_task(
    rt: Runtime,
    request: DsrRequest,
    instance: ConnectorInstance,
    action: TaskAction,
    *,
    phase: int = 1,
    params: dict[str, Any] | None = None,
) -> NewTask:
    """A task row to insert (a plain mapping: a request's fifty go in one executemany)."""
    now = rt.clock.now()
    proven = Identity.from_json(request.identity)
    return {
        "id": new_id("tsk"),
        "request_id": request.id,
        "connector": instance.name,
        "action": action.value,
        "phase": phase,
        "status": TaskStatus.pending.value if _identity_enough(proven, instance) else WAITING,
        "attempts": 0,
        "max_attempts": max(1, instance.max_attempts),
        "params": params or {},
        "created_at": now,
        "updated_at": now,
        "next_attempt_at": now,
        "finished_at": None,
        "result": None,
    }


async def add_tasks(rt: Runtime, session: AsyncSession, tasks: Sequence[NewTask]) -> None:
    if not tasks:
        return
    await session.flush()  # the request row first (foreign key)
    await session.exec(insert(Task), params=list(tasks))
    versions.touch(session, {t["request_id"] for t in tasks})
    if any(t["status"] == TaskStatus.pending.value for t in tasks):
        await wake_workers(rt, session)


async def wake_workers(rt: Runtime, session: AsyncSession) -> None:
    """New work is due: tell this process's workers and (PostgreSQL) the others, once the
    transaction commits, so no worker waits for its next poll."""
    await notify(session)
    if session.info.get(_WAKE_FLAG):
        return
    session.info[_WAKE_FLAG] = True

    def _after_commit(_session: Any) -> None:
        session.info.pop(_WAKE_FLAG, None)
        rt.task_wakeup.set()

    event.listen(session.sync_session, "after_commit", _after_commit, once=True)


async def tasks_of(session: AsyncSession, request_id: str) -> list[Task]:
    rows = await session.exec(
        select(Task)
        .where(Task.request_id == request_id)
        .order_by(col(Task.phase), col(Task.connector), col(Task.action))
    )
    return list(rows)


async def advance(
    rt: Runtime,
    session: AsyncSession,
    request: DsrRequest,
    *,
    counts: dict[tuple[int, str], int] | None = None,
) -> None:
    """Move a started request on after its tasks changed. The caller holds the request's row
    lock, so two workers finishing its last two tasks at once cannot both (or neither) act.
    ``counts``: its tasks per phase and status, when the caller knows them all."""
    if RequestStatus(request.status) not in (
        RequestStatus.in_progress,
        RequestStatus.awaiting_manual,
    ):
        return
    outcomes: Sequence[TaskOutcome] | None = None
    if counts is None:  # one read for both: how far the tasks are, and what they found
        rows = await _outcomes(session, request.id)
        counts = dict(Counter((r.phase, r.status) for r in rows))
        outcomes = rows
    if _erase_phase_due(request, counts):
        await add_tasks(rt, session, await erase_tasks(rt, session, request))
        counts, outcomes = await task_counts(session, request.id), None
    elif _waiting_erasures_due(request, counts):
        await _replan_waiting_erasures(rt, session, request)
        counts, outcomes = await task_counts(session, request.id), None
    target = request_status_for(TaskStatus(status) for _phase, status in counts)
    if target is RequestStatus.completed and _awaits_decision(rt, request):
        target = RequestStatus.awaiting_manual  # an approver decides the 21(1) objection
    unsearched = None
    if target is RequestStatus.completed and request.objection_decision is None:
        unsearched = await nothing_searched(rt, session, request.id, counts)
        if unsearched:  # staff complete it with a statement (services/completion.py)
            target = RequestStatus.awaiting_manual
    if target.value == request.status:
        if unsearched:  # it waited already (e.g. for a proof): say why it waits now
            await audit.append(
                session,
                at=rt.clock.now(),
                actor=SYSTEM.actor,
                action="request.nothing_searched",
                request_id=request.id,
                detail={"reason": unsearched},
            )
        return
    if target is RequestStatus.completed:
        await complete(rt, session, request, SYSTEM, extra=_decisions(request), tasks=outcomes)
    elif target is RequestStatus.awaiting_manual:
        detail = {"reason": unsearched} if unsearched else None
        await requests.transition(rt, session, request, Action.await_manual, SYSTEM, detail=detail)
    else:
        await requests.transition(rt, session, request, Action.resume, SYSTEM)


async def complete(
    rt: Runtime,
    session: AsyncSession,
    request: DsrRequest,
    actor: Principal,
    *,
    extra: dict[str, Any],
    tasks: Sequence[TaskOutcome] | None = None,
) -> None:
    """Record the outcome, tell the recipients (Art. 19) and the person, announce it. With
    ``INNSYN_REVIEW_ANSWERS`` an answer made of the person's data waits for an approver to
    release it (``services/review.py``) before anyone is told. ``tasks``: every task's
    outcome, when the caller read them in this unit of work."""
    if tasks is None:
        tasks = await _outcomes(session, request.id)
    request.outcome = build_outcome(request, tasks) | extra
    refused = partial_refusals.refused(SubjectVault(rt.cipher).details(request))
    if refused:  # D9: the parts refused, with their codes (the words are sealed)
        request.outcome["refused_parts"] = refused
    if rt.settings.review_answers and kinds.policy(request.kind).answered_with_report:
        await requests.transition(
            rt, session, request, Action.await_review, actor, detail={"tasks": len(tasks)}
        )
        return
    if kinds.policy(request.kind).tells_recipients:  # Art. 19
        await recipient_notices.plan(rt, session, request, tasks)
    await requests.transition(
        rt, session, request, Action.complete, actor, detail={"tasks": len(tasks)}
    )
    await webhooks.emit(rt, session, "request.completed", request_event(request))
    if "objection" not in extra:  # else the decision letter was the answer
        await notices.completed(rt, session, request)


async def nothing_searched(
    rt: Runtime, session: AsyncSession, request_id: str, counts: dict[tuple[int, str], int]
) -> str | None:
    """Why no system was searched for this request (no task was planned, or every system
    was left out), or None when at least one was. Such a request is not done by itself."""
    if not counts:
        return NO_CONNECTORS if rt.connectors.active() else NO_CONNECTOR_CONFIGURED
    if {status for _phase, status in counts} != {TaskStatus.cancelled.value}:
        return None
    results = [t.result or {} for t in await _outcomes(session, request_id)]
    if all("not_searched" in result for result in results):
        return EVERY_SYSTEM_LEFT_OUT
    return None


def _awaits_decision(rt: Runtime, request: DsrRequest) -> bool:
    if request.kind != RequestKind.objection.value or request.objection_decision is not None:
        return False
    details = SubjectVault(rt.cipher).details(request)
    return objections.needs_decision(objections.purposes_of(details))


def _decisions(request: DsrRequest) -> dict[str, Any]:
    """The 21(1) decision in the outcome (the grounds stay sealed in the notes)."""
    if request.objection_decision is None:
        return {}
    return {
        "objection": {
            "decision": request.objection_decision,
            "follow_up_request_id": request.objection_follow_up_id,
        }
    }


async def _outcomes(session: AsyncSession, request_id: str) -> Sequence[Any]:
    """What the outcome is built from, and what tells how far the tasks are: five columns
    per task, no ORM objects (task changes still pending are flushed first)."""
    await session.flush()
    connection = await session.connection()
    rows = await connection.execute(
        sa_select(
            col(Task.phase),
            col(Task.connector),
            col(Task.action),
            col(Task.status),
            col(Task.result),
        )
        .where(col(Task.request_id) == request_id)
        .order_by(col(Task.phase), col(Task.connector), col(Task.action))
    )
    return list(rows)


async def task_counts(session: AsyncSession, request_id: str) -> dict[tuple[int, str], int]:
    """Tasks per phase and status: enough to tell whether anything is about to change."""
    rows = await session.exec(
        select(Task.phase, Task.status, func.count())
        .where(Task.request_id == request_id)
        .group_by(col(Task.phase), col(Task.status))
    )
    return {(phase, status): n for phase, status, n in rows}


def _erase_phase_due(request: DsrRequest, counts: dict[tuple[int, str], int]) -> bool:
    """An erasing request erases once every holds check is done (none failed or open)."""
    if RequestKind(request.kind) not in ERASING_KINDS:
        return False
    phases = {phase for phase, _status in counts}
    if HOLDS_PHASE not in phases or ERASE_PHASE in phases:
        return False
    # A system waiting for a stronger proof does not hold up the others: its erase task is
    # planned waiting too, and planned again once its own holds check has run.
    settled = DONE | {TaskStatus.needs_stronger_identity}
    return all(TaskStatus(st) in settled for ph, st in counts if ph == HOLDS_PHASE)


def _waiting_erasures_due(request: DsrRequest, counts: dict[tuple[int, str], int]) -> bool:
    """Erase tasks wait for a proof, and no holds check is left to run: plan them again."""
    if RequestKind(request.kind) not in ERASING_KINDS or (ERASE_PHASE, WAITING) not in counts:
        return False
    return all(TaskStatus(st) in DONE for ph, st in counts if ph == HOLDS_PHASE)


async def _replan_waiting_erasures(rt: Runtime, session: AsyncSession, request: DsrRequest) -> None:
    """Erase tasks that waited for the proof the person has now given: planned with the holds
    known now (their system's holds check ran after the proof), then run."""
    proven = Identity.from_json(request.identity)
    rows = await session.exec(
        select(Task)
        .where(Task.request_id == request.id, Task.status == WAITING, Task.phase == ERASE_PHASE)
        .with_for_update()
    )
    waiting = {
        t.connector: t
        for t in rows
        if (i := rt.connectors.get(t.connector)) is not None and _identity_enough(proven, i)
    }
    if not waiting:
        return
    fresh = {t["connector"]: t for t in await erase_tasks(rt, session, request, only=set(waiting))}
    for name, task in waiting.items():
        planned = fresh.get(name)
        if planned is None:  # nothing in scope any more
            task.status = TaskStatus.cancelled.value
            task.finished_at = rt.clock.now()
        else:
            task.params = planned["params"]
            task.status = planned["status"]
            task.result = planned["result"]
            task.finished_at = planned["finished_at"]
            task.next_attempt_at = planned["next_attempt_at"]
        task.updated_at = rt.clock.now()
        session.add(task)
    await wake_workers(rt, session)


def request_event(request: DsrRequest) -> dict[str, Any]:
    """A webhook payload names the request, never the person (the shape requests use)."""
    return {
        "request_id": request.id,
        "kind": request.kind,
        "status": request.status,
        "due_at": request.effective_due_at.isoformat().replace("+00:00", "Z"),
    }


def build_outcome(request: DsrRequest, tasks: Sequence[TaskOutcome]) -> dict[str, Any]:
    """Per connector: what each action did (counts, categories, hold findings) and which
    categories were held back under which basis, until when. No personal data."""
    if not tasks:
        return {"kind": request.kind, "connectors": {}, "note": NO_CONNECTORS}
    connectors: dict[str, dict[str, Any]] = {}
    for task in tasks:
        entry = connectors.setdefault(task.connector, {"actions": {}, "held": []})
        entry["actions"][task.action] = {"status": task.status, **(task.result or {})}
        for category in (task.result or {}).get("categories", []):
            if isinstance(category, dict) and category.get("outcome") == "held":
                entry["held"].append(category)
    counts: dict[str, int] = {}
    for task in tasks:
        counts[task.status] = counts.get(task.status, 0) + 1
    return {"kind": request.kind, "connectors": connectors, "tasks": counts}


def _able(
    instances: Iterable[ConnectorInstance], capability: Capability
) -> list[ConnectorInstance]:
    return [i for i in instances if capability in i.capabilities]


def _facts(instance: ConnectorInstance) -> list[CategoryFacts]:
    return [
        CategoryFacts(
            name=c.name,
            marketing=c.marketing,
            consent_based=c.consent_based,
            provided_by_subject=c.provided_by_subject,
            objectable=objections.objectable(c.legal_basis),
        )
        for c in instance.connector.categories()
    ]
