"""foreldelsesloven as the claim holds count it: a table of claims and their last day."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.limitation import ClaimEnd, ClaimFacts, claim_end

DUE = date(2022, 3, 1)  # a Tuesday; three years on is Saturday 1 March 2025


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (ClaimFacts(DUE), ClaimEnd(date(2025, 3, 3), "foreldelsesloven §§ 2 og 3")),
        (  # a collection notice is no legal step: nothing interrupted
            ClaimFacts(DUE, collection_started=date(2023, 1, 5)),
            ClaimEnd(date(2025, 3, 3), "foreldelsesloven §§ 2 og 3"),
        ),
        (  # a part payment acknowledges the claim: three new years from it
            ClaimFacts(DUE, acknowledged=date(2024, 6, 3)),
            ClaimEnd(date(2027, 6, 3), "foreldelsesloven §§ 2, 3, 14 og 20"),
        ),
        (  # an acknowledgement after the claim was time-barred revives nothing
            ClaimFacts(DUE, acknowledged=date(2025, 6, 2)),
            ClaimEnd(date(2025, 3, 3), "foreldelsesloven §§ 2 og 3"),
        ),
        (  # sued in time: no end while the case goes on
            ClaimFacts(DUE, legal_step=date(2024, 11, 1)),
            ClaimEnd(None, "foreldelsesloven §§ 15 og 21 nr. 1"),
        ),
        (  # sued too late
            ClaimFacts(DUE, legal_step=date(2025, 4, 1)),
            ClaimEnd(date(2025, 3, 3), "foreldelsesloven §§ 2 og 3"),
        ),
        (  # judged: ten years from the judgment
            ClaimFacts(DUE, legal_step=date(2024, 11, 1), judgment=date(2025, 9, 15)),
            ClaimEnd(date(2035, 9, 17), "foreldelsesloven § 21 nr. 2"),
        ),
    ],
    ids=["plain", "collection", "acknowledged", "acknowledged-late", "sued", "sued-late", "judged"],
)
def test_claim_end(facts: ClaimFacts, expected: ClaimEnd) -> None:
    assert claim_end(facts) == expected


def test_ended_is_after_the_last_day() -> None:
    end = claim_end(ClaimFacts(DUE))
    assert not end.ended(date(2025, 3, 3))
    assert end.ended(date(2025, 3, 4))
    assert not ClaimEnd(None, "pending").ended(date(2099, 1, 1))
