"""FastAPI dependencies in one place: runtime, session, and who is calling."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import ApiKey
from app.domain import addresses
from app.domain.errors import InvalidInput, NotPermitted
from app.domain.requests import Role
from app.infra.crypto import tokens_equal
from app.problems import Unauthorized
from app.runtime import Runtime
from app.security import InvalidToken, Principal, split_api_key
from app.services import apikeys


async def get_runtime(request: Request) -> Runtime:
    # ``async``: FastAPI runs a plain ``def`` dependency in a thread, one hop per request.
    runtime = request.app.state.runtime
    assert isinstance(runtime, Runtime)
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(rt: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """The request is the transaction: commit when the handler returns, roll back on error,
    and both before the response is sent (``scope="function"``): a commit that fails is an
    error answer, never a 2xx for a change that did not happen. What waits for the commit
    (letters leaving through the outbox) also runs before the answer, so when a caller hears
    "done" the person's letter has left (or waits in the outbox, if the mail server failed)."""
    async with rt.db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="Staff JWT")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="Form client API key")


async def _api_key_principal(rt: Runtime, session: AsyncSession, key: str) -> Principal:
    """Read from the database on every call, so a revoked key is refused at once everywhere."""
    parts = split_api_key(key)
    if parts is None:
        raise Unauthorized("API key is malformed")
    prefix, _secret = parts
    row = (await session.exec(select(ApiKey).where(ApiKey.prefix == prefix))).first()
    if row is None or row.revoked_at is not None or not tokens_equal(key, row.key_hash):
        raise Unauthorized("API key is not valid")
    if "requests:create" not in row.scopes.split():
        raise NotPermitted("API key lacks the requests:create scope")
    await apikeys.record_use(session, row, rt.clock.now())
    return Principal(kind="form", id=row.id)


async def optional_principal(
    rt: RuntimeDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal | None:
    """Who calls. A staff token needs no database; an API key is looked up (and its use
    stamped) in a short unit of work of its own, before the handler's."""
    if bearer is not None:
        try:
            return await rt.tokens.verify(bearer.credentials)
        except InvalidToken as exc:
            raise Unauthorized(str(exc)) from exc
    if api_key is not None:
        async with rt.db.session() as session:
            return await _api_key_principal(rt, session, api_key)
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


VISITOR_HEADER = "X-Innsyn-Visitor-IP"


def _client(request: Request, principal: Principal | None, visitor: str | None) -> str | None:
    """Who a per-client limit counts: a form's visitor (header, with a key only), else the
    connecting address (set from X-Forwarded-For only for trusted proxies)."""
    if principal is not None and principal.kind == "form" and visitor is not None:
        address = addresses.parse(visitor)
        if address is None:
            raise InvalidInput(f"{VISITOR_HEADER} must be an IP address", field=VISITOR_HEADER)
        return addresses.client_bucket(address)
    host = request.client.host if request.client else None
    parsed = addresses.parse(host) if host else None
    return addresses.client_bucket(parsed) if parsed is not None else host


async def limit(
    rt: Runtime,
    request: Request,
    principal: Principal | None,
    endpoint: str,
    *,
    target: str | None,
    visitor: str | None,
) -> None:
    """Count a call by a form client or the public (staff are not limited)."""
    if rt.rate_limiter is None or (principal is not None and principal.kind == "staff"):
        return
    await rt.rate_limiter.hit(
        endpoint=endpoint,
        client=_client(request, principal, visitor),
        api_key_id=principal.id if principal is not None and principal.kind == "form" else None,
        target=target,
    )


VisitorDep = Annotated[
    str | None,
    Header(
        alias=VISITOR_HEADER,
        max_length=64,
        description="Form backends: the address of the visitor who filled in the form. Rate "
        "limits count it instead of the backend's address; believed only with an X-API-Key.",
    ),
]


def rate_limited(endpoint: str) -> Callable[..., Coroutine[Any, Any, None]]:
    """Limit public callers per client, per form key and per request (the path's
    ``request_id``)."""

    async def dependency(
        request: Request, rt: RuntimeDep, principal: OptionalPrincipal, visitor: VisitorDep = None
    ) -> None:
        target = request.path_params.get("request_id")
        await limit(rt, request, principal, endpoint, target=target, visitor=visitor)

    return dependency


TargetLimit = Callable[[str | None], Coroutine[Any, Any, None]]


def rate_limited_by_body(endpoint: str) -> Callable[..., Coroutine[Any, Any, TargetLimit]]:
    """Like ``rate_limited``, for endpoints whose target is in the body (the subject's
    e-mail, the identifier checked): the handler calls the result with the target."""

    async def dependency(
        request: Request, rt: RuntimeDep, principal: OptionalPrincipal, visitor: VisitorDep = None
    ) -> TargetLimit:
        async def count(target: str | None) -> None:
            await limit(rt, request, principal, endpoint, target=target, visitor=visitor)

        return count

    return dependency


ALL_STAFF = (Role.operator, Role.approver, Role.auditor, Role.admin)
StaffReader = Annotated[Principal, Depends(require_roles(*ALL_STAFF))]
Approver = Annotated[Principal, Depends(require_roles(Role.approver))]
Operator = Annotated[Principal, Depends(require_roles(Role.operator))]
Auditor = Annotated[Principal, Depends(require_roles(Role.auditor))]
Admin = Annotated[Principal, Depends(require_roles(Role.admin))]
StaffWriter = Annotated[Principal, Depends(require_roles(Role.operator, Role.approver))]
