"""Keeping people who objected to direct marketing off it for good (Art. 21(2)-(3))."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import Suppression
from app.domain.identifiers import (
    InvalidIdentifier,
    normalise_email,
    normalise_national_id,
    normalise_phone,
)
from app.runtime import Runtime
from app.security import Principal
from app.services import audit

_NORMALISE = {
    "email": normalise_email,
    "phone": normalise_phone,
    "national_id": normalise_national_id,
}


def _hashes(rt: Runtime, identifiers: dict[str, Any]) -> list[tuple[str, str]]:
    found = []
    for kind, normalise in _NORMALISE.items():
        value = identifiers.get(kind)
        if not value:
            continue
        try:
            found.append((kind, rt.cipher.lookup_hash(normalise(str(value)), kind=f"sup:{kind}")))
        except InvalidIdentifier:
            continue
    return found


async def add(
    rt: Runtime, session: AsyncSession, *, identifiers: dict[str, Any], request_id: str | None
) -> int:
    """Put the person's identifiers on the list; returns how many were new."""
    added = 0
    for kind, digest in _hashes(rt, identifiers):
        if await session.get(Suppression, digest) is not None:
            continue
        try:
            async with session.begin_nested():
                session.add(
                    Suppression(
                        identifier_hash=digest,
                        kind=kind,
                        request_id=request_id,
                        created_at=rt.clock.now(),
                    )
                )
        except IntegrityError:
            continue
        added += 1
    return added


async def check(
    rt: Runtime, session: AsyncSession, identifiers: dict[str, Any], principal: Principal
) -> bool:
    """``is_suppressed``, audited: who asked about which identifiers (as keyed hashes only)."""
    await audit.append(
        session,
        at=rt.clock.now(),
        actor=principal.actor,
        action="read.suppression",
        detail={"identifiers": [{"kind": k, "hash": h} for k, h in _hashes(rt, identifiers)]},
    )
    return await is_suppressed(rt, session, identifiers)


async def is_suppressed(rt: Runtime, session: AsyncSession, identifiers: dict[str, Any]) -> bool:
    for _kind, digest in _hashes(rt, identifiers):
        if await session.get(Suppression, digest) is not None:
            return True
    return False
