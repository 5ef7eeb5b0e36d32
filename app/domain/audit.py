"""The audit hash chain: each event commits to the one before it in its stream."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

GENESIS = "0" * 64


def event_hash(prev_hash: str, fields: Mapping[str, Any]) -> str:
    """SHA-256 over the previous hash and the event's canonical JSON."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=_json_default)
    return hashlib.sha256(f"{prev_hash}|{canonical}".encode()).hexdigest()


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot hash {type(value).__name__}")


def chain_breaks(events: Iterable[tuple[str, str, Mapping[str, Any]]]) -> list[int]:
    """Indexes of events whose (prev_hash, hash, fields) do not follow from the one before."""
    breaks: list[int] = []
    expected_prev = GENESIS
    for index, (prev_hash, stored_hash, fields) in enumerate(events):
        if prev_hash != expected_prev or event_hash(prev_hash, fields) != stored_hash:
            breaks.append(index)
        expected_prev = stored_hash
    return breaks
