"""``/v1/apikeys``: form-client keys, for admins. Secrets are shown once, when made."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.db.models import ApiKey
from app.deps import Admin, RuntimeDep, SessionDep
from app.routers.responses import AUTH, problems
from app.schemas.apikeys import ApiKeyCreate, ApiKeyCreated, ApiKeyList, ApiKeyView
from app.services import apikeys

router = APIRouter(prefix="/v1/apikeys", tags=["apikeys"])


def view(row: ApiKey) -> ApiKeyView:
    return ApiKeyView(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        scopes=row.scopes.split(),
        status="revoked" if row.revoked_at is not None else "active",
        created_at=row.created_at,
        revoked_at=row.revoked_at,
        last_used_at=row.last_used_at,
    )


@router.get("", summary="API keys", responses=problems(*AUTH, 422))
async def list_api_keys(
    session: SessionDep,
    _admin: Admin,
    include_revoked: Annotated[bool, Query()] = True,
) -> ApiKeyList:
    """Every key with its last use; never a secret."""
    rows = await apikeys.listed(session, include_revoked=include_revoked)
    return ApiKeyList(items=[view(r) for r in rows])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create an API key",
    responses=problems(*AUTH, 422),
)
async def create_api_key(
    body: ApiKeyCreate, rt: RuntimeDep, session: SessionDep, admin: Admin
) -> ApiKeyCreated:
    """The key is in the answer once; only its hash is kept."""
    row, key = await apikeys.create(rt, session, name=body.name, principal=admin)
    return ApiKeyCreated(**view(row).model_dump(), key=key)


@router.post("/{key_id}/revoke", summary="Revoke an API key", responses=problems(*AUTH, 404, 409))
async def revoke_api_key(
    key_id: str, rt: RuntimeDep, session: SessionDep, admin: Admin
) -> ApiKeyView:
    """Refused from the next call on, on every replica."""
    return view(await apikeys.revoke(rt, session, key_id, principal=admin))


@router.post("/{key_id}/rotate", summary="Rotate an API key", responses=problems(*AUTH, 404, 409))
async def rotate_api_key(
    key_id: str, rt: RuntimeDep, session: SessionDep, admin: Admin
) -> ApiKeyCreated:
    """A new secret for the same key, shown once; the old one is refused at once."""
    row, key = await apikeys.rotate(rt, session, key_id, principal=admin)
    return ApiKeyCreated(**view(row).model_dump(), key=key)
