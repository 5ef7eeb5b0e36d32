"""Identifier field types for request bodies: validated and normalised on the way in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from pydantic import AfterValidator, Field

from app.domain.identifiers import InvalidIdentifier, normalise_national_id, normalise_phone


def _as_value_error(normalise: Callable[[str], str]) -> Callable[[str], str]:
    """Pydantic reports ValueErrors as field errors; the message never repeats the value."""

    def check(value: str) -> str:
        try:
            return normalise(value)
        except InvalidIdentifier as exc:
            raise ValueError(str(exc)) from exc

    return check


NationalId = Annotated[
    str, Field(max_length=20), AfterValidator(_as_value_error(normalise_national_id))
]
Phone = Annotated[str, Field(max_length=32), AfterValidator(_as_value_error(normalise_phone))]
