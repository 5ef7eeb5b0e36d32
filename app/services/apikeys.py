"""Form-client API keys: created, listed, revoked and rotated; only a hash is ever stored."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import ApiKey
from app.domain.errors import Conflict, NotFound
from app.ids import new_id
from app.infra.crypto import token_hash
from app.runtime import Runtime
from app.security import API_KEY_PREFIX, SYSTEM, Principal
from app.services import audit

# Last use is recorded at most this often per key: a busy form writes once a minute, not
# once a call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _new_secret() -> tuple[str, str]:
    prefix = secrets.token_hex(6)
    return prefix, f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"


async def create(
    rt: Runtime, session: AsyncSession, *, name: str, principal: Principal = SYSTEM
) -> tuple[ApiKey, str]:
    """Returns the row and the key, which is shown once and never stored."""
    prefix, key = _new_secret()
    row = ApiKey(
        id=new_id("key"),
        name=name,
        prefix=prefix,
        key_hash=token_hash(key),
        created_at=rt.clock.now(),
    )
    session.add(row)
    await session.flush()
    await _audit(rt, session, row, principal, "apikey.created")
    return row, key


async def listed(session: AsyncSession, *, include_revoked: bool = True) -> list[ApiKey]:
    query = select(ApiKey).order_by(col(ApiKey.created_at), col(ApiKey.id))
    if not include_revoked:
        query = query.where(col(ApiKey.revoked_at).is_(None))
    return list(await session.exec(query))


async def _active(session: AsyncSession, key_id: str) -> ApiKey:
    row = (await session.exec(select(ApiKey).where(ApiKey.id == key_id).with_for_update())).first()
    if row is None:
        raise NotFound(f"API key {key_id} not found")
    if row.revoked_at is not None:
        raise Conflict(f"API key {key_id} is revoked", key_id=key_id)
    return row


async def revoke(
    rt: Runtime, session: AsyncSession, key_id: str, *, principal: Principal = SYSTEM
) -> ApiKey:
    """Refused from the next call on, on every replica: each call reads the key's row."""
    row = await _active(session, key_id)
    row.revoked_at = rt.clock.now()
    session.add(row)
    await session.flush()
    await _audit(rt, session, row, principal, "apikey.revoked")
    return row


async def rotate(
    rt: Runtime, session: AsyncSession, key_id: str, *, principal: Principal = SYSTEM
) -> tuple[ApiKey, str]:
    """A new secret for the same key id; the old secret is refused at once."""
    row = await _active(session, key_id)
    row.prefix, key = _new_secret()
    row.key_hash = token_hash(key)
    row.last_used_at = None
    session.add(row)
    await session.flush()
    await _audit(rt, session, row, principal, "apikey.rotated")
    return row, key


async def record_use(session: AsyncSession, row: ApiKey, now: datetime) -> None:
    """Stamp ``last_used_at``, unless another call did so within the last minute."""
    cutoff = now - LAST_USED_RESOLUTION
    if row.last_used_at is not None and row.last_used_at > cutoff:
        return
    await session.exec(
        update(ApiKey)
        .where(
            col(ApiKey.id) == row.id,
            or_(col(ApiKey.last_used_at).is_(None), col(ApiKey.last_used_at) <= cutoff),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )


async def _audit(
    rt: Runtime, session: AsyncSession, row: ApiKey, principal: Principal, action: str
) -> None:
    await audit.append(
        session, at=rt.clock.now(), actor=principal.actor, action=action, detail={"key_id": row.id}
    )
