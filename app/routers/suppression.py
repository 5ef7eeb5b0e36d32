"""``/v1/suppression/check``: may this person be marketed to? (Art. 21(3))."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from app.deps import CallerDep, RuntimeDep, SessionDep, TargetLimit, rate_limited_by_body
from app.domain.errors import InvalidInput
from app.routers.responses import AUTH, problems
from app.services import suppression

router = APIRouter(prefix="/v1/suppression", tags=["suppression"])


class SuppressionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=32)
    national_id: str | None = Field(default=None, max_length=20)


class SuppressionAnswer(BaseModel):
    suppressed: bool


@router.post("/check", summary="Check the suppression list", responses=problems(*AUTH, 422, 429))
async def check_suppression(
    body: SuppressionQuery,
    rt: RuntimeDep,
    session: SessionDep,
    caller: CallerDep,
    limit: Annotated[TargetLimit, Depends(rate_limited_by_body("suppression"))],
) -> SuppressionAnswer:
    """True when the person objected to direct marketing: never add them back. A POST, so
    identifiers stay out of URLs and access logs. Rate-limited per client, per identifier
    and per form key, so it cannot be used to sweep a list of people. Each check is audited
    (keyed hashes only)."""
    identifiers = body.model_dump(exclude_none=True)
    if not identifiers:
        raise InvalidInput("give an email, phone or national_id")
    await limit("|".join(f"{k}={v}" for k, v in sorted(identifiers.items())))
    return SuppressionAnswer(suppressed=await suppression.check(rt, session, identifiers, caller))
