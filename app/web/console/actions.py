"""``/console/requests/{id}/…``: the staff actions, each a small form post (CSRF checked)
that calls the same use case as its API twin, under the same roles, then goes back to the
request page with a notice in words. A refused change is a notice too, never a 500."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData, UploadFile

from app.deps import RuntimeDep
from app.domain import errors
from app.domain.findings import Attachment, Finding
from app.domain.report_values import OSLO
from app.domain.requests import STAFF_ROLES, Action, Role
from app.runtime import Runtime
from app.schemas.holds import HoldCreate
from app.schemas.requests import CodeIn, ExtendIn, RefuseIn, RefusePartIn
from app.schemas.review import ReleaseIn
from app.security import Principal
from app.services import (
    answer_links,
    completion,
    flows,
    holds,
    partial_refusals,
    recipient_notices,
    requests,
    review,
    tasks,
)
from app.services.recipient_notices import Resolution
from app.web.console.auth import staff_page
from app.web.forms import FormDep, PagesDep, text, texts

router = APIRouter(prefix="/console/requests/{request_id}", include_in_schema=False)

OPERATOR = frozenset({Role.operator})
APPROVER = frozenset({Role.approver})
MAX_FILE_BYTES = 10 * 1024 * 1024
REDACTION_ROWS = 3
FINDING_ROWS = 3


def _by_hand(action: Action) -> frozenset[Role]:
    """The roles the lifecycle's policy table gives an action (admin is implied)."""
    return STAFF_ROLES[action] - {Role.admin}


@dataclass(frozen=True)
class ConsoleAction:
    """One form: its path under the request page and the roles its API twin requires."""

    path: str
    roles: frozenset[Role]


ACTIONS: dict[str, ConsoleAction] = {
    "attest": ConsoleAction("/attest", _by_hand(Action.verify)),
    "extend": ConsoleAction("/extend", _by_hand(Action.extend)),
    "refuse": ConsoleAction("/refuse", _by_hand(Action.refuse)),
    "refuse_part": ConsoleAction("/refuse-part", _by_hand(Action.refuse)),
    "withdraw": ConsoleAction("/withdraw", _by_hand(Action.withdraw)),
    "complete_task": ConsoleAction("/tasks/{task_id}/complete", OPERATOR),
    "retry_task": ConsoleAction("/tasks/{task_id}/retry", OPERATOR),
    "skip_task": ConsoleAction("/tasks/{task_id}/skip", OPERATOR),
    "place_hold": ConsoleAction("/holds", APPROVER),
    "release_hold": ConsoleAction("/holds/{hold_id}/release", APPROVER),
    "release_answer": ConsoleAction("/release", _by_hand(Action.release)),
    "lift_restriction": ConsoleAction("/lift-restriction", APPROVER),
    "decide_objection": ConsoleAction("/objection-decision", APPROVER),
    "resolve_notice": ConsoleAction("/notices/{notice_id}/resolve", APPROVER),
    "complete_request": ConsoleAction("/complete", OPERATOR),
    "issue_link": ConsoleAction("/answer-links", OPERATOR),
    "revoke_links": ConsoleAction("/answer-links/revoke", OPERATOR),
}

# Why a change was refused, as the notice names it (words in console-actions.*.yaml).
_WHY: list[tuple[type[Exception], str]] = [
    (ValidationError, "input"),
    (errors.InvalidInput, "input"),
    (errors.InvalidTransition, "state"),
    (errors.Conflict, "state"),
    (errors.NotFound, "missing"),
    (errors.NotPermitted, "role"),
]


@dataclass(frozen=True)
class Posted:
    """One action's post: who, the form, the request and any other id in the path."""

    rt: Runtime
    session: AsyncSession
    staff: Principal
    form: FormData
    request_id: str
    ids: dict[str, str]


Handler = Callable[[Posted], Awaitable[Any]]


def _action(name: str) -> Callable[[Handler], Handler]:
    """Registers ``handler`` as the post of action ``name``: staff with its roles only, the
    CSRF token checked, then the handler run as one unit of work (committed, or rolled back
    whole) and back to the request page saying what happened."""

    allowed = Depends(staff_page(*ACTIONS[name].roles))

    def register(handler: Handler) -> Handler:
        async def endpoint(
            request: Request,
            rt: RuntimeDep,
            pages: PagesDep,
            form: FormDep,
            staff: Principal = allowed,
        ) -> RedirectResponse:
            ids = {k: str(v) for k, v in request.path_params.items()}
            request_id = ids.pop("request_id")
            page = f"/console/requests/{request_id}"
            try:
                async with rt.db.session() as session:
                    await handler(Posted(rt, session, staff, form, request_id, ids))
            except (ValidationError, errors.DomainError) as exc:
                why = next((w for kind, w in _WHY if isinstance(exc, kind)), "other")
                return pages.redirect(f"{page}?failed={name}&why={why}#notice")
            finally:
                await form.close()  # an uploaded file's temporary copy
            return pages.redirect(f"{page}?done={name}#notice")

        router.add_api_route(ACTIONS[name].path, endpoint, methods=["POST"], name=name)
        return handler

    return register


def _reason(form: FormData, name: str = "reason", *, limit: int = 2000) -> str:
    """A reason the use case needs (at least three characters), else the form is wrong."""
    value = text(form, name, limit=limit)
    if len(value) < 3:
        raise errors.InvalidInput("say why", field=name)
    return value


@router.get("/{action:path}", include_in_schema=False)
async def back_to_the_request(request_id: str, pages: PagesDep) -> RedirectResponse:
    """An action's address opened (a reload, the "back" link after a refused form): the
    request page, where its form is."""
    return pages.redirect(f"/console/requests/{request_id}")


@_action("attest")
async def attest(p: Posted) -> None:
    note, checked = text(p.form, "note", limit=2000), texts(p.form, "checked")
    if not note:
        raise errors.InvalidInput("say how the identity was checked", field="note")
    body = CodeIn.model_validate({"method": "staff", "note": note, "checked": checked or None})
    await flows.verify(p.rt, p.session, p.request_id, principal=p.staff, body=body)


@_action("extend")
async def extend(p: Posted) -> None:
    fields = {"months": text(p.form, "months"), "reason": text(p.form, "reason", limit=2000)}
    body = ExtendIn.model_validate(fields)
    await requests.extend(p.rt, p.session, p.request_id, principal=p.staff, body=body)


@_action("refuse")
async def refuse(p: Posted) -> None:
    body = RefuseIn.model_validate(
        {
            "reason_code": text(p.form, "reason_code"),
            "explanation": text(p.form, "explanation", limit=5000),
            "evidence": text(p.form, "evidence", limit=5000) or None,
        }
    )
    await flows.refuse(p.rt, p.session, p.request_id, principal=p.staff, body=body)


# The part chosen on the form: "system<SEP>category", a system (restriction), or a change.
PART_SEP = "::"


@_action("refuse_part")
async def refuse_part(p: Posted) -> None:
    """Leave out one system's category, one system or one change, as the API's refuse-part."""
    kind, _, part = text(p.form, "part", limit=220).partition(":")
    system, _, category = part.partition(PART_SEP)
    fields: dict[str, Any] = {
        "reason_code": text(p.form, "reason_code"),
        "explanation": text(p.form, "explanation", limit=5000),
        "evidence": text(p.form, "evidence", limit=5000) or None,
    }
    if kind == "change":
        fields["field"] = part
    elif kind == "system":
        fields |= {"system": system, "category": category or None}
    else:
        raise errors.InvalidInput("choose the part refused", field="part")
    body = RefusePartIn.model_validate(fields)
    await partial_refusals.refuse_part(p.rt, p.session, p.request_id, principal=p.staff, body=body)


@_action("withdraw")
async def withdraw(p: Posted) -> None:
    reason = text(p.form, "reason", limit=2000) or None
    await flows.withdraw(
        p.rt, p.session, p.request_id, principal=p.staff, token=None, reason=reason
    )


def _findings(form: FormData) -> list[Finding]:
    found = []
    for n in range(1, FINDING_ROWS + 1):
        description = text(form, f"finding_{n}", limit=5000)
        if description:
            found.append(Finding(text(form, f"finding_{n}_category", limit=100), description, {}))
    return found


async def _files(form: FormData) -> list[Attachment]:
    category = text(form, "file_category", limit=100)
    files = []
    for upload in form.getlist("file"):
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        content = await upload.read(MAX_FILE_BYTES + 1)
        if len(content) > MAX_FILE_BYTES:
            raise errors.InvalidInput("the file is too large", field="file")
        files.append(
            Attachment(
                category=category,
                file_name=upload.filename[:200],
                content_type=upload.content_type or "application/octet-stream",
                content_base64=base64.b64encode(content).decode(),
                description=text(form, "file_description", limit=2000) or None,
            )
        )
    return files


@_action("complete_task")
async def complete_task(p: Posted) -> None:
    done = set(texts(p.form, "done"))
    answers = {item: item in done for item in texts(p.form, "item")}
    await tasks.complete_by_hand(
        p.rt,
        p.session,
        p.request_id,
        p.ids["task_id"],
        principal=p.staff,
        answers=answers,
        note=text(p.form, "note", limit=5000) or None,
        not_possible=text(p.form, "not_possible", limit=2000) or None,
        found=(_findings(p.form), await _files(p.form)),
    )


@_action("retry_task")
async def retry_task(p: Posted) -> None:
    await tasks.retry(p.rt, p.session, p.request_id, p.ids["task_id"], principal=p.staff)


@_action("skip_task")
async def skip_task(p: Posted) -> None:
    note = _reason(p.form, "note", limit=5000)
    await tasks.skip_unproven(
        p.rt, p.session, p.request_id, p.ids["task_id"], principal=p.staff, note=note
    )


def _day(form: FormData, name: str) -> date | None:
    value = text(form, name, limit=20)
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise errors.InvalidInput("not a date", field=name) from None


def _names(form: FormData, name: str) -> list[str]:
    """Names written separated by commas."""
    return [c.strip() for c in text(form, name).split(",") if c.strip()]


@_action("place_hold")
async def place_hold(p: Posted) -> None:
    body = HoldCreate(
        basis_code=text(p.form, "basis_code", limit=48),
        connector=text(p.form, "connector", limit=100),
        categories=_names(p.form, "categories"),
        reason=text(p.form, "reason", limit=2000),
        request_id=p.request_id,
        until=_day(p.form, "until"),
        reference=text(p.form, "reference", limit=100) or None,
    )
    await holds.place(p.rt, p.session, principal=p.staff, body=body)


@_action("release_hold")
async def release_hold(p: Posted) -> None:
    reason = _reason(p.form)
    await flows.release_hold(p.rt, p.session, p.ids["hold_id"], principal=p.staff, reason=reason)


def _redactions(form: FormData) -> list[dict[str, Any]]:
    rows = []
    for n in range(1, REDACTION_ROWS + 1):
        system = text(form, f"redact_{n}_system", limit=100)
        if not system:
            continue
        rows.append(
            {
                "system": system,
                "category": text(form, f"redact_{n}_category", limit=100),
                "record": text(form, f"redact_{n}_record", limit=10) or "x",
                "field": text(form, f"redact_{n}_field", limit=100) or None,
                "reason": text(form, f"redact_{n}_reason", limit=500),
            }
        )
    return rows


@_action("release_answer")
async def release_answer(p: Posted) -> None:
    body = ReleaseIn.model_validate({"redactions": _redactions(p.form)})
    await review.release(p.rt, p.session, p.request_id, principal=p.staff, body=body)


def _morning(day: date, now: datetime) -> datetime:
    """The start of ``day`` in Oslo, or now when that has passed (a lift chosen for today)."""
    return max(now, datetime.combine(day, time(0, 0), tzinfo=OSLO))


@_action("lift_restriction")
async def lift_restriction(p: Posted) -> None:
    reason = _reason(p.form)
    day = _day(p.form, "effective_on")
    await flows.lift_restriction(
        p.rt,
        p.session,
        p.request_id,
        principal=p.staff,
        reason=reason,
        effective_at=_morning(day, p.rt.clock.now()) if day else None,
        informed_otherwise=text(p.form, "informed_otherwise", limit=2000) or None,
    )


@_action("decide_objection")
async def decide_objection(p: Posted) -> None:
    decision = text(p.form, "decision")
    if decision not in ("upheld", "rejected"):
        raise errors.InvalidInput("choose a decision", field="decision")
    await flows.decide_objection(
        p.rt,
        p.session,
        p.request_id,
        principal=p.staff,
        upheld=decision == "upheld",
        grounds=_reason(p.form, "grounds", limit=5000),
        categories=_names(p.form, "categories"),
    )


RESOLUTIONS: dict[str, Resolution] = {
    "sent": "sent",
    "disproportionate": "disproportionate",
    "retry": "retry",
}


@_action("resolve_notice")
async def resolve_notice(p: Posted) -> None:
    resolution = RESOLUTIONS.get(text(p.form, "resolution"))
    if resolution is None:
        raise errors.InvalidInput("choose what was done", field="resolution")
    await recipient_notices.resolve(
        p.rt,
        p.session,
        p.request_id,
        p.ids["notice_id"],
        principal=p.staff,
        resolution=resolution,
        reason=_reason(p.form),
    )


@_action("complete_request")
async def complete_request(p: Posted) -> None:
    statement = text(p.form, "statement", limit=5000)
    if len(statement) < 10:
        raise errors.InvalidInput("write what was done and found", field="statement")
    await completion.complete_with_statement(
        p.rt, p.session, p.request_id, principal=p.staff, statement=statement
    )


@_action("issue_link")
async def issue_link(p: Posted) -> None:
    """A fresh link; the person sees it on their status page (it is not shown here)."""
    request = await requests.get(p.session, p.request_id)
    await answer_links.issue(p.rt, p.session, request, actor=p.staff.actor)


@_action("revoke_links")
async def revoke_links(p: Posted) -> None:
    request = await requests.get(p.session, p.request_id)
    await answer_links.revoke(p.rt, p.session, request, p.staff)
