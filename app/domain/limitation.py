"""When a money claim ends by limitation (foreldelsesloven). Pure: no I/O.

A claim hold (GDPR 17(3)(e)) lasts only as long as the claim can still be enforced. The
connector reports facts about the claim; this module turns them into the last day the claim
can be pursued, with the provisions that give that day:

- §§ 2-3: three years from the day the claim could first be demanded (the due date).
- § 14 and § 20: the debtor's acknowledgement (a promise to pay, a part payment, interest)
  interrupts, and a new three-year period runs from it.
- § 15 and § 21 nr. 1: a legal step (conciliation board, writ of summons) interrupts, and the
  claim cannot become time-barred while the proceedings go on: no end date until they end.
- § 21 nr. 2: a judgment (or court settlement) starts a new ten-year period.
- A debt-collection step (a collection notice, a payment demand) is not among §§ 14-17: it
  does not interrupt, so a claim in collection ends three years after its due date.
- An interruption after the claim was already time-barred revives nothing.

A last day on a weekend or public holiday moves to the next working day (as
:func:`app.domain.retention.limitation_until` counts it). Not modelled: the one-year extra
period for a creditor who lacked knowledge (§ 10) and after a dismissed case (§ 22).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from app.domain.retention import LIMITATION_YEARS, limitation_until

JUDGMENT_YEARS = 10  # foreldelsesloven § 21 nr. 2


@dataclass(frozen=True)
class ClaimFacts:
    """What the creditor's system knows about one claim (dates only, no personal data)."""

    due: date
    acknowledged: date | None = None  # the debtor's latest acknowledgement or part payment
    collection_started: date | None = None  # sent to debt collection (does not interrupt)
    legal_step: date | None = None  # conciliation board or writ of summons filed
    judgment: date | None = None  # judgment or court settlement for the claim


@dataclass(frozen=True)
class ClaimEnd:
    """The last day the claim can be enforced (None: proceedings pending) and why."""

    until: date | None
    law: str

    def ended(self, today: date) -> bool:
        """Whether the claim is time-barred on ``today``."""
        return self.until is not None and self.until < today


def claim_end(facts: ClaimFacts) -> ClaimEnd:
    """The end of an unsettled claim under foreldelsesloven, with the provisions it rests on."""
    until = limitation_until(facts.due, years=LIMITATION_YEARS)
    law = "foreldelsesloven §§ 2 og 3"
    if facts.acknowledged is not None and facts.due <= facts.acknowledged <= until:
        until = limitation_until(facts.acknowledged, years=LIMITATION_YEARS)
        law = "foreldelsesloven §§ 2, 3, 14 og 20"
    if facts.judgment is not None:
        years = JUDGMENT_YEARS
        return ClaimEnd(
            limitation_until(facts.judgment, years=years), "foreldelsesloven § 21 nr. 2"
        )
    if facts.legal_step is not None and facts.legal_step <= until:
        return ClaimEnd(None, "foreldelsesloven §§ 15 og 21 nr. 1")
    return ClaimEnd(until, law)
