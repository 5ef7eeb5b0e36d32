"""Views of ``/v1/apikeys``: never a secret, except once when a key is made or rotated."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200, description="who uses the key")


class ApiKeyView(BaseModel):
    id: str
    name: str
    prefix: str = Field(description="the key's visible part (`ik_<prefix>_…`), to recognise it")
    scopes: list[str]
    status: Literal["active", "revoked"]
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None = Field(description="to the minute")


class ApiKeyCreated(ApiKeyView):
    key: str = Field(description="the secret: shown this once, never again")


class ApiKeyList(BaseModel):
    items: list[ApiKeyView]
