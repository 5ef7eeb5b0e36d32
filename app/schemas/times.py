"""Time fields of the API: RFC 3339 with an explicit offset, read in UTC.

A date alone or a time without a zone is ambiguous (Oslo or UTC? which day?), so it is
refused with a message saying what is expected, never guessed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

EXPECTED = "expected an RFC 3339 date-time with a time zone, e.g. 2027-01-01T00:00:00Z"


def _rfc3339(value: Any) -> datetime:
    """Parse, insist on an offset, and normalise to UTC (years 1-9999 after conversion)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        if "T" not in text.upper() and " " not in text:
            raise ValueError(f"a date alone is not accepted: {EXPECTED}")
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(EXPECTED) from None
    else:
        raise ValueError(EXPECTED)
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"the time zone is missing: {EXPECTED}")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("the date-time is out of range") from None


Rfc3339 = Annotated[
    datetime,
    BeforeValidator(_rfc3339),
    Field(description="RFC 3339 with a time zone, e.g. 2027-01-01T00:00:00Z"),
]
