"""Which legal holds an invoice raises, as of a given day. Pure: no I/O.

Basis codes come from the hold catalogue (``HoldBasis``): ``outstanding_claim``,
``debt_collection`` and ``bookkeeping``. The dates come from :mod:`app.domain.retention`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from app.connectors.protocol import CategoryErasure, ErasureOutcome, HoldBasis, HoldFinding
from app.domain.retention import bookkeeping_primary_until, fy_end, limitation_until

CLAIM_CONDITION = (
    "until the invoice is settled; the claim cannot be time-barred before the date given "
    "(foreldelsesloven §§ 2-3)"
)
BOOKKEEPING_CONDITION = (
    "primary documentation: kept until 5 years after the end of the financial year "
    "(bokføringsloven § 13)"
)
_ORDER = (HoldBasis.outstanding_claim, HoldBasis.debt_collection, HoldBasis.bookkeeping_primary)


@dataclass(frozen=True)
class InvoiceState:
    """What the holds depend on; ``id`` is the invoice number (not personal data)."""

    id: Any
    issued_at: date | None
    due_at: date | None
    settled: bool
    in_collection: bool
    draft: bool = False

    @property
    def open_claim(self) -> bool:
        return not self.settled and not self.draft

    def claim_basis(self) -> HoldBasis:
        return HoldBasis.debt_collection if self.in_collection else HoldBasis.outstanding_claim

    def claim_until(self) -> date | None:
        """Earliest end of the claim hold: when the claim could first become time-barred."""
        start = self.due_at or self.issued_at
        return limitation_until(start) if start else None

    def bookkeeping_until(self, year_end_month: int) -> date | None:
        if self.draft or self.issued_at is None:
            return None
        return bookkeeping_primary_until(self.issued_at, year_end_month=year_end_month)

    def holds(self, today: date, year_end_month: int) -> bool:
        """Whether any hold keeps this invoice on ``today``."""
        until = self.bookkeeping_until(year_end_month)
        return self.open_claim or (until is not None and until >= today)


def holds_for(
    states: Sequence[InvoiceState], categories: list[str], today: date, year_end_month: int
) -> list[HoldFinding]:
    """One hold per open claim, and one bookkeeping hold per financial year still running."""
    findings: list[HoldFinding] = []
    for state in states:
        if state.open_claim:
            findings.append(
                HoldFinding(
                    basis_code=state.claim_basis().value,
                    categories=categories,
                    until=state.claim_until(),
                    condition=CLAIM_CONDITION,
                    reference=f"invoice {state.id}",
                )
            )
    by_year: dict[date, int] = {}
    for state in states:
        until = state.bookkeeping_until(year_end_month)
        if until is not None and until >= today and state.issued_at is not None:
            year = fy_end(state.issued_at, year_end_month=year_end_month)
            by_year[year] = by_year.get(year, 0) + 1
    for year, count in sorted(by_year.items()):
        findings.append(
            HoldFinding(
                basis_code=HoldBasis.bookkeeping_primary.value,
                categories=categories,
                until=bookkeeping_primary_until(year, year_end_month=year_end_month),
                condition=BOOKKEEPING_CONDITION,
                reference=f"financial year ending {year.isoformat()}: {count} invoice(s)",
            )
        )
    return findings


def held_entries(
    category: str, held: Sequence[InvoiceState], today: date, year_end_month: int
) -> list[CategoryErasure]:
    """Erasure entries for a held category: one per basis, with the latest end date."""
    groups: dict[HoldBasis, list[date | None]] = {}
    for state in held:
        if state.open_claim:
            groups.setdefault(state.claim_basis(), []).append(state.claim_until())
        until = state.bookkeeping_until(year_end_month)
        if until is not None and until >= today:
            groups.setdefault(HoldBasis.bookkeeping_primary, []).append(until)
    entries: list[CategoryErasure] = []
    for basis in _ORDER:
        if basis not in groups:
            continue
        ends = groups[basis]
        known = [d for d in ends if d is not None]
        entries.append(
            CategoryErasure(
                category=category,
                outcome=ErasureOutcome.held,
                count=len(ends),
                basis_code=basis.value,
                reason=BOOKKEEPING_CONDITION
                if basis is HoldBasis.bookkeeping_primary
                else CLAIM_CONDITION,
                until=max(known) if known else None,
            )
        )
    return entries
