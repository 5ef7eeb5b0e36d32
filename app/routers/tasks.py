"""``/v1/requests/{id}/tasks``: staff close manual tasks and retry failed ones."""

from __future__ import annotations

from fastapi import APIRouter

from app.deps import Operator, RuntimeDep, SessionDep
from app.domain.findings import Attachment, Finding
from app.routers.responses import AUTH, problems
from app.schemas.tasks import TaskCompleteIn, TaskSkipIn, TaskView
from app.services import tasks

router = APIRouter(prefix="/v1/requests/{request_id}/tasks", tags=["tasks"])


@router.post(
    "/{task_id}/complete",
    summary="Close a manual task",
    responses=problems(*AUTH, 404, 409, 422),
)
async def complete_task(
    request_id: str,
    task_id: str,
    body: TaskCompleteIn,
    rt: RuntimeDep,
    session: SessionDep,
    staff: Operator,
) -> TaskView:
    """Close a manual task with its checklist answers (or a failed task done by hand). An
    item answered ``false`` keeps the task open (``422``) unless ``not_possible_reason`` ends
    it as ``not_possible``. A collect task may record ``findings`` and ``files`` (base64)."""
    found = (
        [Finding(f.category, f.description, f.values) for f in body.findings],
        [Attachment(**f.model_dump()) for f in body.files],
    )
    task = await tasks.complete_by_hand(
        rt,
        session,
        request_id,
        task_id,
        principal=staff,
        answers=body.answers,
        note=body.note,
        not_possible=body.not_possible_reason,
        found=found,
    )
    return TaskView.model_validate(tasks.task_view(task))


@router.post("/{task_id}/retry", summary="Retry a failed task", responses=problems(*AUTH, 404, 409))
async def retry_task(
    request_id: str, task_id: str, rt: RuntimeDep, session: SessionDep, staff: Operator
) -> TaskView:
    """Run a failed connector task again, with a fresh budget of attempts."""
    task = await tasks.retry(rt, session, request_id, task_id, principal=staff)
    return TaskView.model_validate(tasks.task_view(task))


@router.post(
    "/{task_id}/skip",
    summary="Go on without a system that needs a stronger proof",
    responses=problems(*AUTH, 404, 409, 422),
)
async def skip_task(
    request_id: str,
    task_id: str,
    body: TaskSkipIn,
    rt: RuntimeDep,
    session: SessionDep,
    staff: Operator,
) -> TaskView:
    """The person did not prove the identity this system needs: it is not searched (nor
    changed), the outcome and the letter say so, and the request can complete."""
    task = await tasks.skip_unproven(
        rt, session, request_id, task_id, principal=staff, note=body.note
    )
    return TaskView.model_validate(tasks.task_view(task))
