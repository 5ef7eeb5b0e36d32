"""What an erasing request may erase in one system, and what it must keep (pure).

Erasure erases everything in scope that no legal hold covers, and records the rest with the
hold's basis and end: a hold is never silently bypassed. Holds come from connectors today
(``HoldFinding``); staff-placed holds can be passed in the same shape later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.domain.kinds import ERASING_KINDS
from app.domain.requests import RequestKind

__all__ = [
    "ERASING_KINDS",
    "CategoryFacts",
    "ErasurePlan",
    "HeldCategory",
    "Hold",
    "in_scope",
    "plan",
    "portable",
]


@dataclass(frozen=True)
class CategoryFacts:
    """The facts about one declared data category that decide whether a request reaches it."""

    name: str
    marketing: bool = False
    consent_based: bool = False
    provided_by_subject: bool = True
    objectable: bool = False
    """Processed on public task or legitimate interest: an Art. 21(1) objection reaches it."""


@dataclass(frozen=True)
class Hold:
    """A reason to keep some categories: found by a connector or placed by staff."""

    basis_code: str
    categories: tuple[str, ...]
    until: date | None = None
    condition: str | None = None
    reference: str | None = None
    source: str = "connector"
    fields: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Per category, the only fields kept; the connector that found the hold keeps them."""

    def keeps_whole(self, category: str) -> bool:
        return not self.fields.get(category)


@dataclass(frozen=True)
class HeldCategory:
    category: str
    basis_code: str
    until: date | None
    condition: str | None
    source: str

    def as_result(self) -> dict[str, Any]:
        """The shape of a ``CategoryErasure`` with outcome ``held`` (stored in task results)."""
        return {
            "category": self.category,
            "outcome": "held",
            "count": 0,
            "basis_code": self.basis_code,
            "reason": self.condition,
            "until": self.until.isoformat() if self.until else None,
            "source": self.source,
            "fields": [],
        }


@dataclass(frozen=True)
class ErasurePlan:
    erase: tuple[str, ...]
    held: tuple[HeldCategory, ...]

    @property
    def nothing_to_erase(self) -> bool:
        return not self.erase


def in_scope(kind: RequestKind, categories: Iterable[CategoryFacts]) -> list[str]:
    """Categories an erasing request reaches: all (Art. 17), direct marketing (Art. 21),
    or consent-based processing (Art. 7(3))."""
    if kind is RequestKind.erasure:
        return [c.name for c in categories]
    if kind is RequestKind.objection:
        return [c.name for c in categories if c.marketing]
    if kind is RequestKind.withdraw_consent:
        return [c.name for c in categories if c.consent_based]
    raise ValueError(f"{kind.value} requests do not erase")


def portable(categories: Iterable[CategoryFacts]) -> list[str]:
    """Art. 20 covers only the data the person provided (given or observed)."""
    return [c.name for c in categories if c.provided_by_subject]


def plan(scope: Sequence[str], holds: Iterable[Hold]) -> ErasurePlan:
    """Split ``scope`` into what to erase and what the holds keep.

    A category covered by several holds is kept under the one that lasts longest (an
    open-ended hold, ``until=None``, lasts longest), so the record shows the binding reason.
    A category whose every hold names the fields it keeps is erased all the same: the
    connector that found those holds keeps exactly those fields and erases the rest.
    """
    binding: dict[str, Hold] = {}
    for hold in holds:
        for category in hold.categories:
            if (
                category in scope
                and hold.keeps_whole(category)
                and _lasts_longer(hold, binding.get(category))
            ):
                binding[category] = hold
    erase = tuple(c for c in dict.fromkeys(scope) if c not in binding)
    held = tuple(
        HeldCategory(
            category=c,
            basis_code=binding[c].basis_code,
            until=binding[c].until,
            condition=binding[c].condition,
            source=binding[c].source,
        )
        for c in dict.fromkeys(scope)
        if c in binding
    )
    return ErasurePlan(erase=erase, held=held)


def _lasts_longer(candidate: Hold, current: Hold | None) -> bool:
    if current is None:
        return True
    if current.until is None:
        return False
    return candidate.until is None or candidate.until > current.until
