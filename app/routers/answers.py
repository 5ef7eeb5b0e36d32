"""``/v1/answers/{link}``: the person downloads their answer with the link made for it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from app.deps import RuntimeDep, SessionDep, rate_limited
from app.routers import answer_formats
from app.routers.responses import problems
from app.services import answer_links, reports

router = APIRouter(prefix="/v1/answers", tags=["answers"])


@router.get(
    "/{link}",
    summary="Download the answer",
    responses={**answer_formats.CONTENT, **problems(404, 410, 422, 429)},
    response_class=Response,
    dependencies=[Depends(rate_limited("answer"))],
)
async def download_answer(
    link: Annotated[str, Path(min_length=16, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")],
    rt: RuntimeDep,
    session: SessionDep,
    format_: Annotated[answer_formats.Format, Query(alias="format")] = "html",
) -> Response:
    """The answer in the format asked for; an expired or revoked link answers 410 in words."""
    request = await answer_links.open_link(rt, session, link)
    return answer_formats.respond(rt, await reports.build(rt, session, request), format_)
