"""FastAPI dependencies in one place: runtime, session, and who is calling."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.crypto import tokens_equal
from app.db.models import ApiKey
from app.domain.errors import NotPermitted
from app.domain.requests import Role
from app.problems import Unauthorized
from app.runtime import Runtime
from app.security import InvalidToken, Principal, split_api_key


def get_runtime(request: Request) -> Runtime:
    runtime = request.app.state.runtime
    assert isinstance(runtime, Runtime)
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(rt: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """The request is the transaction: commit when the handler returns, roll back on error."""
    async with rt.db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]

_bearer = HTTPBearer(auto_error=False, description="Staff JWT")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Form client API key")


async def _api_key_principal(session: AsyncSession, key: str) -> Principal:
    parts = split_api_key(key)
    if parts is None:
        raise Unauthorized("API key is malformed")
    prefix, _secret = parts
    row = (await session.exec(select(ApiKey).where(ApiKey.prefix == prefix))).first()
    if row is None or row.revoked_at is not None or not tokens_equal(key, row.key_hash):
        raise Unauthorized("API key is not valid")
    if "requests:create" not in row.scopes.split():
        raise NotPermitted("API key lacks the requests:create scope")
    return Principal(kind="form", id=row.id)


async def optional_principal(
    rt: RuntimeDep,
    session: SessionDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal | None:
    if bearer is not None:
        try:
            return await rt.tokens.verify(bearer.credentials)
        except InvalidToken as exc:
            raise Unauthorized(str(exc)) from exc
    if api_key is not None:
        return await _api_key_principal(session, api_key)
    return None


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


async def any_principal(principal: OptionalPrincipal) -> Principal:
    if principal is None:
        raise Unauthorized("send a staff bearer token or an X-API-Key")
    return principal


CallerDep = Annotated[Principal, Depends(any_principal)]


def require_roles(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency that admits staff holding one of ``roles`` (admin always)."""
    wanted = frozenset(roles)

    async def dependency(principal: OptionalPrincipal) -> Principal:
        if principal is None:
            raise Unauthorized("send a staff bearer token")
        if principal.kind != "staff":
            raise NotPermitted("this endpoint is for staff")
        if not principal.has_any(wanted):
            names = ", ".join(sorted(r.value for r in wanted | {Role.admin}))
            raise NotPermitted(f"this needs one of the roles: {names}")
        return principal

    return dependency


def rate_limited(endpoint: str) -> Callable[..., Coroutine[Any, Any, None]]:
    """Limit public callers (form clients and anonymous people) per address and per API key."""

    async def dependency(request: Request, rt: RuntimeDep, principal: OptionalPrincipal) -> None:
        if rt.rate_limiter is None or (principal is not None and principal.kind == "staff"):
            return
        await rt.rate_limiter.hit(
            endpoint=endpoint,
            client_ip=request.client.host if request.client else None,
            api_key_id=principal.id if principal is not None else None,
        )

    return dependency


ALL_STAFF = (Role.operator, Role.approver, Role.auditor, Role.admin)
StaffReader = Annotated[Principal, Depends(require_roles(*ALL_STAFF))]
Approver = Annotated[Principal, Depends(require_roles(Role.approver))]
Operator = Annotated[Principal, Depends(require_roles(Role.operator))]
Auditor = Annotated[Principal, Depends(require_roles(Role.auditor))]
Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
StaffWriter = Annotated[Principal, Depends(require_roles(Role.operator, Role.approver))]
