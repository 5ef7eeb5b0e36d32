"""``/v1/holds``: legal holds that keep exactly the data the law requires."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.deps import Approver, Operator, RuntimeDep, SessionDep, StaffReader
from app.routers.responses import AUTH, problems
from app.schemas.holds import (
    HoldBasisView,
    HoldCatalogueView,
    HoldCreate,
    HoldPage,
    HoldRelease,
    HoldView,
)
from app.services import flows, hold_recheck, holds
from app.store.holds import HoldRepository

router = APIRouter(prefix="/v1/holds", tags=["holds"])


@router.get("", summary="List holds", responses=problems(*AUTH, 422))
async def list_holds(
    rt: RuntimeDep,
    session: SessionDep,
    _staff: StaffReader,
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(active|released|expired|ended)$")
    ] = None,
    request_id: Annotated[str | None, Query(max_length=40)] = None,
    connector: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=60)] = None,
) -> HoldPage:
    """Holds, newest first."""
    page = await HoldRepository(session).listed(
        status=status_, request_id=request_id, connector=connector, limit=limit, cursor=cursor
    )
    return HoldPage(items=[holds.view(rt, r) for r in page.items], next_cursor=page.next_cursor)


@router.get("/catalogue", summary="The hold catalogue", responses=problems(*AUTH))
async def hold_catalogue(rt: RuntimeDep, _staff: StaffReader) -> HoldCatalogueView:
    """Every basis a hold can rest on, with its law, exemption and end rule."""
    return HoldCatalogueView(
        items=[
            HoldBasisView(
                code=b.code,
                law=b.law,
                gdpr_exemption=b.gdpr_exemption,
                end_rule=b.end_rule.value,
                months=b.months,
                nb=b.nb,
                en=b.en,
                fields=list(b.fields),
                blocks_erasure=b.blocks_erasure,
            )
            for b in rt.hold_catalogue.all()
        ]
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Place a hold",
    responses=problems(*AUTH, 404, 422),
)
async def place_hold(
    body: HoldCreate, rt: RuntimeDep, session: SessionDep, staff: Approver
) -> HoldView:
    """Keep a person's data in one system's categories, with a reason (approver)."""
    return holds.view(rt, await holds.place(rt, session, principal=staff, body=body))


@router.post(
    "/{hold_id}/release", summary="Release a hold", responses=problems(*AUTH, 404, 409, 422)
)
async def release_hold(
    hold_id: str, body: HoldRelease, rt: RuntimeDep, session: SessionDep, staff: Approver
) -> HoldView:
    """End a hold; the data it kept is then erased by a follow-up erasure."""
    hold = await flows.release_hold(rt, session, hold_id, principal=staff, reason=body.reason)
    return holds.view(rt, hold)


@router.post(
    "/{hold_id}/recheck",
    summary="Re-check a hold's condition",
    responses=problems(*AUTH, 404, 409),
)
async def recheck_hold(hold_id: str, rt: RuntimeDep, staff: Operator) -> HoldView:
    """Ask the connector now whether the hold's condition (an unpaid invoice…) still holds.

    If it no longer finds it, the hold ends (``ended``) and the data it kept is erased by a
    follow-up erasure; else the hold stays, checked now. A connector error is a 409 and the
    hold stays active. The connector is called outside the database transaction."""
    return holds.view(rt, await hold_recheck.recheck_one(rt, hold_id, principal=staff))
