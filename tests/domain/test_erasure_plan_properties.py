"""Property: a held datum is never erased, and no datum is silently forgotten."""

from __future__ import annotations

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.erasure_plan import Hold, plan

CATEGORIES = [f"cat_{i}" for i in range(8)]
categories = st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=8)
holds = st.lists(
    st.builds(
        Hold,
        basis_code=st.sampled_from(["bookkeeping_primary", "outstanding_claim", "legal_claim"]),
        categories=st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=4).map(tuple),
        until=st.none() | st.dates(min_value=date(2026, 1, 1), max_value=date(2040, 12, 31)),
    ),
    max_size=6,
)


@settings(max_examples=300, deadline=None, database=None)
@given(scope=categories, holds=holds)
def test_every_datum_is_either_erased_or_held_never_both(scope, holds):
    result = plan(scope, holds)
    erased = set(result.erase)
    held = {h.category for h in result.held}
    assert erased | held == set(scope)  # nothing silently forgotten
    assert not erased & held  # nothing held is erased
    covered = {c for h in holds for c in h.categories}
    assert held == set(scope) & covered  # held exactly when a hold covers it
    for kept in result.held:
        covering = [h for h in holds if kept.category in h.categories]
        ends = [h.until for h in covering]
        # The recorded end is the latest of the covering holds (open-ended lasts longest).
        expected = None if None in ends else max(e for e in ends if e is not None)
        assert kept.until == expected
