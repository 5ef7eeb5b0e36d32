"""``POST /v1/requests/{id}/complete``: staff complete a request no system was searched for."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from app.deps import Operator, RuntimeDep, SessionDep
from app.routers.responses import AUTH, problems
from app.schemas.requests import RequestSummary
from app.services import completion, request_views

router = APIRouter(prefix="/v1/requests", tags=["requests"])


class CompleteIn(BaseModel):
    """The statement that answers the person when no system was searched."""

    model_config = ConfigDict(extra="forbid")

    statement: str = Field(
        min_length=10,
        max_length=5000,
        description=(
            "What was done instead and what it found, in the request's language: it is the "
            "answer, shown in the outcome and written in the person's completion letter."
        ),
    )


@router.post(
    "/{request_id}/complete",
    summary="Complete a request no system was searched for",
    responses=problems(*AUTH, 404, 409, 422),
)
async def complete_request(
    request_id: str, body: CompleteIn, rt: RuntimeDep, session: SessionDep, staff: Operator
) -> RequestSummary:
    """Only for a request waiting in ``awaiting_manual`` because no task was planned (no
    connector configured, none reaching what it asks for) or every system was left out;
    a request with tasks completes when they are done (``409`` otherwise)."""
    request = await completion.complete_with_statement(
        rt, session, request_id, principal=staff, statement=body.statement
    )
    return request_views.summary(request, rt.clock.now())
