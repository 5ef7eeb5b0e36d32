"""``/v1/requests/{id}/letters``: letters for the post, printed and marked posted by staff."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from app.deps import Operator, RuntimeDep, SessionDep
from app.routers.report_headers import report_headers
from app.routers.responses import AUTH, problems
from app.schemas.requests import LetterView
from app.services import letter_outbox, letter_print, requests

router = APIRouter(prefix="/v1/requests/{request_id}/letters", tags=["letters"])


@router.get(
    "/{letter_id}/print",
    summary="Print a letter for the post",
    response_class=Response,
    responses={
        200: {
            "content": {"text/html": {}, "application/pdf": {}},
            "description": "The letter, to print and post",
        },
        **problems(*AUTH, 404, 409, 422),
    },
)
async def print_letter(
    request_id: str,
    letter_id: str,
    rt: RuntimeDep,
    session: SessionDep,
    _staff: Operator,
    format: Annotated[Literal["html", "pdf"], Query()] = "pdf",
) -> Response:
    """A request without an e-mail address is answered by post: print its letter here."""
    request = await requests.get(session, request_id)
    row, letter = await letter_outbox.printable(rt, session, request_id, letter_id)
    name = f"letter-{row.id}.{format}"
    if format == "html":
        page = letter_print.html(letter, request.language)
        return Response(
            page, media_type="text/html", headers=report_headers(html=True, filename=name)
        )
    body = letter_print.pdf(letter, request.language)
    return Response(
        body, media_type="application/pdf", headers=report_headers(html=False, filename=name)
    )


@router.post(
    "/{letter_id}/posted",
    summary="Mark a printed letter posted",
    responses=problems(*AUTH, 404, 409),
)
async def letter_posted(
    request_id: str, letter_id: str, rt: RuntimeDep, session: SessionDep, staff: Operator
) -> LetterView:
    """The letter went in the post: it counts as sent, and its text is dropped."""
    row = await letter_outbox.mark_posted(rt, session, request_id, letter_id, actor=staff.actor)
    return LetterView.model_validate(row, from_attributes=True)
