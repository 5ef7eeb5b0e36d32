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
from app.domain.limitation import ClaimEnd, ClaimFacts, claim_end
from app.domain.retention import bookkeeping_primary_until, fy_end

CLAIM_CONDITION = "until the invoice is settled, written off or time-barred"
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
    acknowledged_at: date | None = None
    collection_started_at: date | None = None
    legal_step_at: date | None = None
    judgment_at: date | None = None

    @property
    def unsettled(self) -> bool:
        return not self.settled and not self.draft

    def claim_end(self) -> ClaimEnd | None:
        """When the claim ends by limitation (foreldelsesloven), from the invoice's facts."""
        due = self.due_at or self.issued_at
        if due is None:
            return None
        facts = ClaimFacts(
            due=due,
            acknowledged=self.acknowledged_at,
            collection_started=self.collection_started_at,
            legal_step=self.legal_step_at,
            judgment=self.judgment_at,
        )
        return claim_end(facts)

    def open_claim(self, today: date) -> bool:
        """Unsettled and not yet time-barred on ``today``: a claim that can be enforced."""
        end = self.claim_end()
        return self.unsettled and not (end is not None and end.ended(today))

    def claim_basis(self) -> HoldBasis:
        return HoldBasis.debt_collection if self.in_collection else HoldBasis.outstanding_claim

    def claim_until(self) -> date | None:
        """The last day the claim can be enforced; None while legal proceedings go on."""
        end = self.claim_end()
        return end.until if end else None

    def claim_condition(self) -> str:
        """The hold's condition, citing the provisions that give its end."""
        end = self.claim_end()
        return f"{CLAIM_CONDITION} ({end.law})" if end else CLAIM_CONDITION

    def bookkeeping_until(self, year_end_month: int) -> date | None:
        if self.draft or self.issued_at is None:
            return None
        return bookkeeping_primary_until(self.issued_at, year_end_month=year_end_month)

    def holds(self, today: date, year_end_month: int) -> bool:
        """Whether any hold keeps this invoice on ``today``."""
        until = self.bookkeeping_until(year_end_month)
        return self.open_claim(today) or (until is not None and until >= today)


def holds_for(
    states: Sequence[InvoiceState], categories: list[str], today: date, year_end_month: int
) -> list[HoldFinding]:
    """One hold per claim not yet time-barred, and one bookkeeping hold per financial year
    still running. A time-barred claim holds nothing (foreldelsesloven)."""
    findings: list[HoldFinding] = []
    for state in states:
        if state.open_claim(today):
            findings.append(
                HoldFinding(
                    basis_code=state.claim_basis().value,
                    categories=categories,
                    until=state.claim_until(),
                    condition=state.claim_condition(),
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
    laws: dict[HoldBasis, str] = {}
    for state in held:
        if state.open_claim(today):
            groups.setdefault(state.claim_basis(), []).append(state.claim_until())
            laws[state.claim_basis()] = state.claim_condition()
        until = state.bookkeeping_until(year_end_month)
        if until is not None and until >= today:
            groups.setdefault(HoldBasis.bookkeeping_primary, []).append(until)
    entries: list[CategoryErasure] = []
    for basis in _ORDER:
        if basis not in groups:
            continue
        ends = groups[basis]
        known = [d for d in ends if d is not None]
        pending = len(known) < len(ends)  # proceedings pending: no end date yet
        entries.append(
            CategoryErasure(
                category=category,
                outcome=ErasureOutcome.held,
                count=len(ends),
                basis_code=basis.value,
                reason=laws.get(basis, BOOKKEEPING_CONDITION),
                until=max(known) if known and not pending else None,
            )
        )
    return entries
