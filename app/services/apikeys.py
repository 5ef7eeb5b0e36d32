"""Creating and revoking form-client API keys; only a hash is stored."""

from __future__ import annotations

import secrets

from sqlmodel.ext.asyncio.session import AsyncSession

from app.crypto import token_hash
from app.db.models import ApiKey
from app.ids import new_id
from app.runtime import Runtime
from app.security import API_KEY_PREFIX, SYSTEM, Principal
from app.services import audit


async def create(
    rt: Runtime, session: AsyncSession, *, name: str, principal: Principal = SYSTEM
) -> tuple[ApiKey, str]:
    """Returns the row and the key, which is shown once and never stored."""
    prefix = secrets.token_hex(6)
    key = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiKey(
        id=new_id("key"),
        name=name,
        prefix=prefix,
        key_hash=token_hash(key),
        created_at=rt.clock.now(),
    )
    session.add(row)
    await session.flush()
    await audit.append(
        session,
        at=row.created_at,
        actor=principal.actor,
        action="apikey.created",
        detail={"key_id": row.id},
    )
    return row, key
