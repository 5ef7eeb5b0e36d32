"""What an objection (Art. 21) reaches: direct marketing at once, other processing after a
decision.

A direct-marketing objection is absolute (21(2)-(3)). An objection to processing on public
task or legitimate interest (21(1), GDPR 6(1)(e)/(f)) needs an approver's decision; when it
is upheld, processing on those bases stops, and the data they cover is erased (17(1)(c))
unless a legal hold keeps it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from enum import StrEnum

DIRECT_MARKETING = "direct_marketing"


class Decision(StrEnum):
    """An approver's decision on a 21(1) objection (``requests.objection_decision``)."""

    upheld = "upheld"  # processing on 6(1)(e)/(f) stops; the data is erased, holds permitting
    rejected = "rejected"  # compelling legitimate grounds override: processing goes on


_OBJECTABLE_BASIS = re.compile(r"6\s*\(\s*1\s*\)\s*\(\s*[ef]\s*\)", re.IGNORECASE)


def covers_marketing(purposes: Sequence[str] | None) -> bool:
    """An objection without named purposes is taken as one to direct marketing."""
    return not purposes or DIRECT_MARKETING in purposes


def needs_decision(purposes: Sequence[str] | None) -> bool:
    """Any purpose besides direct marketing is a 21(1) objection an approver decides."""
    return any(p != DIRECT_MARKETING for p in purposes or ())


def objectable(legal_basis: str) -> bool:
    """Art. 21(1) reaches processing on 6(1)(e) (public task) or 6(1)(f) (legitimate
    interest), as a category's declared legal basis names it (e.g. 'GDPR 6(1)(f) …')."""
    return bool(_OBJECTABLE_BASIS.search(legal_basis))


def purposes_of(details: dict[str, object]) -> list[str]:
    """The request's ``details.purposes`` as a list of strings (anything else is ignored)."""
    purposes = details.get("purposes")
    if not isinstance(purposes, list):
        return []
    return [p for p in purposes if isinstance(p, str)]


def narrowed(scope: Iterable[str], only: Sequence[str] | None) -> list[str]:
    """``scope`` limited to the categories an approver named (all of it when none were)."""
    return [c for c in scope if not only or c in only]
