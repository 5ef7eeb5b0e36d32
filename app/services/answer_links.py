"""Download links for the answer, apart from the status token.

A link works for ``INNSYN_ANSWER_LINK_DAYS``; the status page shows it, or a new one once it
has expired (further copies are free, rules.md D11). Staff may revoke it: then the status page
shows none until staff make a new one. Only a hash finds a link; it is never logged, and
every download is counted and audited."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import AnswerLink, DsrRequest
from app.domain import kinds
from app.domain.errors import Gone, InvalidTransition, NotFound
from app.domain.requests import RequestStatus
from app.ids import new_id
from app.infra.crypto import new_token, token_hash
from app.runtime import Runtime
from app.schemas.answers import AnswerLinkView
from app.security import Principal
from app.services import audit

PREFIX = "/v1/answers/"
_WORDS = {
    "expired": {
        "nb": "Lenken er utløpt. Åpne statussiden for forespørselen din for å få en ny lenke.",
        "en": "This link has expired. Open the status page of your request to get a new one.",
    },
    "revoked": {
        "nb": "Lenken er trukket tilbake. Kontakt oss om du trenger svaret på nytt.",
        "en": "This link was withdrawn. Contact us if you need the answer again.",
    },
}


def _purpose(request_id: str) -> str:
    return f"answer-link:{request_id}"


def ready(request: DsrRequest) -> bool:
    return (
        request.status == RequestStatus.completed.value
        and kinds.policy(request.kind).answered_with_report
    )


async def _links(session: AsyncSession, request_id: str) -> list[AnswerLink]:
    rows = await session.exec(
        select(AnswerLink)
        .where(AnswerLink.request_id == request_id)
        .order_by(col(AnswerLink.created_at).desc(), col(AnswerLink.id).desc())
    )
    return list(rows)


async def current_url(rt: Runtime, session: AsyncSession, request: DsrRequest) -> str | None:
    """The link to show the person: the working one, a new one when the last has expired,
    none while staff have revoked it or before the answer is ready."""
    if not ready(request):
        return None
    links = await _links(session, request.id)
    now = rt.clock.now()
    if links:
        latest = links[0]
        if latest.revoked_at is not None:
            return None
        if latest.expires_at > now:
            token = rt.cipher.open(latest.token_ciphertext, purpose=_purpose(request.id))
            return PREFIX + str(token)
    return await issue(rt, session, request, actor="system")


async def issue(rt: Runtime, session: AsyncSession, request: DsrRequest, *, actor: str) -> str:
    """Make a new link (the older ones keep their own expiry unless revoked)."""
    if not ready(request):
        raise InvalidTransition("the answer is not ready yet")
    token = new_token(32)
    now = rt.clock.now()
    link = AnswerLink(
        id=new_id("al"),
        request_id=request.id,
        token_hash=token_hash(token),
        token_ciphertext=rt.cipher.seal(token, purpose=_purpose(request.id)),
        created_at=now,
        expires_at=now + timedelta(days=rt.settings.answer_link_days),
    )
    session.add(link)
    await audit.append(
        session,
        at=now,
        actor=actor,
        action="answer.link_issued",
        request_id=request.id,
        detail={"link": link.id, "expires_at": link.expires_at.isoformat()},
    )
    return PREFIX + token


async def open_link(rt: Runtime, session: AsyncSession, token: str) -> DsrRequest:
    """The request a link answers; counts the download. Expired or revoked: 410 in words."""
    link, request = await _working(rt, session, token)
    now = rt.clock.now()
    link.downloads += 1
    link.last_download_at = now
    session.add(link)
    await audit.append(
        session,
        at=now,
        actor=f"subject:{request.id}",
        action="read.answer_link",
        request_id=request.id,
        detail={"link": link.id},
    )
    return request


async def peek(rt: Runtime, session: AsyncSession, token: str) -> tuple[DsrRequest, datetime]:
    """The request a link answers and when the link expires, for the page that offers its
    formats: nothing is read from the answer yet, so nothing is counted. Expired or revoked:
    ``Gone`` in words."""
    link, request = await _working(rt, session, token)
    return request, link.expires_at


async def _working(rt: Runtime, session: AsyncSession, token: str) -> tuple[AnswerLink, DsrRequest]:
    link = (
        await session.exec(select(AnswerLink).where(AnswerLink.token_hash == token_hash(token)))
    ).first()
    if link is None:
        raise NotFound("there is no answer at this link")
    request = await session.get(DsrRequest, link.request_id)
    if request is None or not ready(request):
        raise NotFound("there is no answer at this link")
    language = "en" if request.language == "en" else "nb"
    now = rt.clock.now()
    if link.revoked_at is not None:
        raise Gone(_WORDS["revoked"][language], reason="revoked")
    if link.expires_at <= now:
        raise Gone(_WORDS["expired"][language], reason="expired")
    return link, request


async def revoke(
    rt: Runtime, session: AsyncSession, request: DsrRequest, principal: Principal
) -> list[AnswerLinkView]:
    """Stop every working link of the request (a wrong address, a leaked link)."""
    now = rt.clock.now()
    for link in await _links(session, request.id):
        if link.revoked_at is None and link.expires_at > now:
            link.revoked_at = now
            link.revoked_by = principal.actor
            session.add(link)
    await audit.append(
        session, at=now, actor=principal.actor, action="answer.links_revoked", request_id=request.id
    )
    return await views(rt, session, request)


async def views(rt: Runtime, session: AsyncSession, request: DsrRequest) -> list[AnswerLinkView]:
    """What staff see of the links: never the link itself, its state and downloads."""
    now = rt.clock.now()
    return [
        AnswerLinkView(
            id=link.id,
            created_at=link.created_at,
            expires_at=link.expires_at,
            state="revoked"
            if link.revoked_at is not None
            else ("expired" if link.expires_at <= now else "active"),
            revoked_at=link.revoked_at,
            downloads=link.downloads,
            last_download_at=link.last_download_at,
        )
        for link in await _links(session, request.id)
    ]
