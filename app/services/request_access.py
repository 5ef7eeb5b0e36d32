"""Who may act on a request they did not file as staff: the form key that filed it, or the
person holding its status token."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from app.domain.errors import NotPermitted, Unauthenticated
from app.security import Principal
from app.services.requests import get
from app.services.subjects import SubjectVault


async def require_filer_or_token(
    session: AsyncSession, request_id: str, principal: Principal | None, token: str | None
) -> None:
    """Staff, the form client whose key filed the request, or the status-token holder.

    Another form key must not make Innsyn mail someone else's requester a fresh code (each
    code is more guesses); the token is checked in constant time."""
    request = await get(session, request_id)
    if principal is not None and principal.kind == "staff":
        return
    if principal is not None and principal.kind == "form" and request.created_by == principal.actor:
        return
    if token is not None:
        if SubjectVault.token_matches(request, token):
            return
        raise NotPermitted("the status token does not match this request")
    if principal is None:
        raise Unauthenticated("send the filing form's X-API-Key or the status token")
    raise NotPermitted("only the form client that filed this request can ask for a new code")
