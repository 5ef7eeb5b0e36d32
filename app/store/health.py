"""Whether the database answers, for the readiness probe."""

from __future__ import annotations

from sqlalchemy import text

from app.db.engine import Database


async def answers(db: Database) -> bool:
    """True when a trivial query comes back; any failure means not (the reason is not
    leaked: it may name hosts or users)."""
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return False
    return True
