"""The minimal suppression list (Art. 21(3)): who must never be marketed to again.

Only keyed hashes are kept, so the list reveals nobody, yet a marketing system can ask
whether an address is on it before adding it back.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from app.db.types import UTCDateTime


class Suppression(SQLModel, table=True):
    __tablename__ = "suppressions"

    identifier_hash: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=16)  # email, phone, national_id
    request_id: str | None = Field(default=None, max_length=40)
    created_at: datetime = Field(sa_type=UTCDateTime)
