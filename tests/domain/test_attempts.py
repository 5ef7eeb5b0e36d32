"""After an interrupted attempt, a change that finds nothing is reported done by it."""

from __future__ import annotations

from app.domain import recipients
from app.domain.attempts import NOTE, after_interruption

RESULT = {
    "categories": [
        {"category": "contact", "outcome": "not_found", "count": 0},
        {"category": "orders", "outcome": "erased", "count": 2},
        {"category": "invoices", "outcome": "held", "count": 0, "basis_code": "legal_claim"},
    ]
}


def test_without_an_interrupted_attempt_the_result_is_as_reported() -> None:
    assert after_interruption("erase", RESULT, 0) == RESULT


def test_not_found_after_an_interrupted_attempt_is_erased_by_it() -> None:
    result = after_interruption("erase", RESULT, 1)
    assert result["interrupted_attempts"] == 1
    contact, orders, invoices = result["categories"]
    assert contact == {
        "category": "contact",
        "outcome": "erased",
        "count": None,
        "by_interrupted_attempt": True,
        "note": NOTE,
    }
    assert orders == RESULT["categories"][1] and invoices == RESULT["categories"][2]
    # Art. 19: the recipients hear of a change the interrupted attempt made.
    changed = recipients.changes_in("crm", result)
    assert [(c.category, c.action) for c in changed] == [
        ("contact", "erasure"),
        ("orders", "erasure"),
    ]


def test_rectify_and_restrict_and_lift_say_what_was_done() -> None:
    found = {"categories": [{"category": "contact", "outcome": "not_found", "count": 0}]}
    assert after_interruption("rectify", found, 1)["categories"][0]["outcome"] == "rectified"
    assert after_interruption("restrict", found, 2)["categories"][0]["outcome"] == "restricted"
    lifted = after_interruption("restrict", found, 1, lift=True)
    assert lifted["categories"][0]["outcome"] == "lifted"
    collected = after_interruption("collect", {"records": 0}, 1)
    assert collected == {"records": 0, "interrupted_attempts": 1}
