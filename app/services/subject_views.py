"""What the person's status page shows: the status the API gives the status-token holder,
and once the request is finished, what each system did and what was kept and why."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from app.domain import kinds, letters, subject_outcome
from app.domain.requests import RequestStatus
from app.runtime import Runtime
from app.schemas.requests import SubjectStatus
from app.services import notices, request_views, requests


@dataclass(frozen=True)
class StatusPage:
    status: SubjectStatus
    waiting_for_code: bool
    systems: list[subject_outcome.SystemDone] = field(default_factory=list)
    kept: list[letters.KeptData] = field(default_factory=list)


async def status_page(
    rt: Runtime, session: AsyncSession, request_id: str, token: str
) -> StatusPage:
    """The subject status (the token checked there), with the outcome once completed."""
    status = await request_views.subject_status(rt, session, request_id, token)
    request = await requests.get(session, request_id)
    waiting = status.status is RequestStatus.received and request.verification_method == "email"
    if status.status is not RequestStatus.completed:
        return StatusPage(status, waiting)
    reported = kinds.policy(request.kind).answered_with_report
    return StatusPage(
        status,
        False,
        systems=subject_outcome.systems(request.outcome),
        kept=[] if reported else await notices.kept_data(rt, session, request),
    )
