"""Art. 19 recipients: who receives which categories, and settling notices by hand."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter

from app.deps import Approver, RuntimeDep, SessionDep, StaffReader
from app.domain.recipients import RecipientSpec
from app.routers.responses import AUTH, problems
from app.schemas.recipients import NoticeResolution, NoticeView, RecipientList, RecipientView
from app.services import recipient_notices

router = APIRouter(tags=["recipients"])


@router.get("/v1/recipients", summary="Recipients and their routes", responses=problems(*AUTH))
async def list_recipients(rt: RuntimeDep, _staff: StaffReader) -> RecipientList:
    """Every recipient a category names or the directory lists (Art. 15(1)(c), Art. 19)."""
    named: dict[str, list[str]] = {}
    for instance in rt.connectors.active():
        for category in instance.connector.categories():
            for name in category.recipients:
                named.setdefault(name, []).append(f"{instance.name}/{category.name}")
    names = sorted(set(named) | set(rt.recipients.specs))
    return RecipientList(
        items=[_view(name, rt.recipients.specs.get(name), named.get(name, [])) for name in names]
    )


def _view(name: str, spec: RecipientSpec | None, categories: list[str]) -> RecipientView:
    if spec is None:
        return RecipientView(
            name=name,
            notify="unconfigured",
            target=None,
            reason=None,
            categories=categories,
            configured=False,
        )
    target = {
        "email": spec.email,
        "webhook": urlsplit(spec.url or "").hostname,
        "connector": spec.connector,
    }.get(spec.notify)
    return RecipientView(
        name=name,
        notify=spec.notify,
        target=target,
        reason=spec.reason,
        categories=categories,
        configured=True,
    )


@router.post(
    "/v1/requests/{request_id}/recipient-notices/{notice_id}/resolve",
    summary="Settle an Art. 19 notice by hand",
    responses=problems(*AUTH, 404, 409, 422),
)
async def resolve_notice(
    request_id: str,
    notice_id: str,
    body: NoticeResolution,
    rt: RuntimeDep,
    session: SessionDep,
    staff: Approver,
) -> NoticeView:
    """Record that the recipient was told another way, that it is disproportionate, or retry."""
    notice = await recipient_notices.resolve(
        rt,
        session,
        request_id,
        notice_id,
        principal=staff,
        resolution=body.status,
        reason=body.reason,
    )
    return recipient_notices.view(notice)
