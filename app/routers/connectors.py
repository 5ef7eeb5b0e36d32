"""``/v1/connectors``: the configured connectors, their capabilities, categories and health."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.connectors.status import ConnectorsView, describe
from app.deps import RuntimeDep, StaffReader
from app.routers.responses import AUTH, problems

router = APIRouter(prefix="/v1/connectors", tags=["connectors"])


@router.get("", summary="List connectors", responses=problems(*AUTH))
async def list_connectors(
    rt: RuntimeDep,
    _staff: StaffReader,
    health: Annotated[bool, Query(description="Run each connector's check()")] = True,
) -> ConnectorsView:
    """Configured instances with capabilities, Art. 15 categories and health, plus broken ones."""
    return await describe(rt.connectors, health=health)
