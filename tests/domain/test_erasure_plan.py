"""The erasure plan: erase what is in scope and not held; keep and record the rest."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.erasure_plan import CategoryFacts, Hold, in_scope, plan, portable
from app.domain.requests import RequestKind

CATS = [
    CategoryFacts("contact"),
    CategoryFacts("newsletter", marketing=True, consent_based=True),
    CategoryFacts("profiling", marketing=True),
    CategoryFacts("invoices", provided_by_subject=False),
    CategoryFacts("cookies", consent_based=True),
]


def test_erasure_reaches_every_category() -> None:
    assert in_scope(RequestKind.erasure, CATS) == [
        "contact",
        "newsletter",
        "profiling",
        "invoices",
        "cookies",
    ]


def test_objection_reaches_only_direct_marketing() -> None:
    assert in_scope(RequestKind.objection, CATS) == ["newsletter", "profiling"]


def test_withdrawing_consent_reaches_only_consent_based_processing() -> None:
    assert in_scope(RequestKind.withdraw_consent, CATS) == ["newsletter", "cookies"]


def test_non_erasing_kinds_are_rejected() -> None:
    with pytest.raises(ValueError, match="do not erase"):
        in_scope(RequestKind.access, CATS)


def test_portability_keeps_only_what_the_person_provided() -> None:
    assert portable(CATS) == ["contact", "newsletter", "profiling", "cookies"]


def test_without_holds_everything_in_scope_is_erased() -> None:
    result = plan(["contact", "invoices"], [])
    assert result.erase == ("contact", "invoices")
    assert result.held == ()
    assert not result.nothing_to_erase


def test_held_categories_are_kept_with_basis_and_end() -> None:
    hold = Hold(
        basis_code="bookkeeping_act",
        categories=("invoices",),
        until=date(2031, 12, 31),
        condition="5 years after the financial year",
    )
    result = plan(["contact", "invoices"], [hold])
    assert result.erase == ("contact",)
    [held] = result.held
    assert (held.category, held.basis_code, held.until) == (
        "invoices",
        "bookkeeping_act",
        date(2031, 12, 31),
    )
    assert held.as_result() == {
        "category": "invoices",
        "outcome": "held",
        "count": 0,
        "basis_code": "bookkeeping_act",
        "reason": "5 years after the financial year",
        "until": "2031-12-31",
        "source": "connector",
        "fields": [],
    }


def test_a_category_held_field_by_field_is_still_erased() -> None:
    """The connector that found the hold keeps the named fields and erases the rest."""
    partial = Hold(
        basis_code="bookkeeping_primary",
        categories=("billing", "invoices"),
        until=date(2031, 12, 31),
        fields={"billing": ("name", "billing_address")},
    )
    result = plan(["billing", "invoices", "contact"], [partial])
    assert result.erase == ("billing", "contact")
    assert [h.category for h in result.held] == ["invoices"]
    whole = Hold(basis_code="legal_claim", categories=("billing",), until=date(2027, 1, 31))
    result = plan(["billing", "invoices"], [partial, whole])
    assert result.erase == ()
    assert [(h.category, h.basis_code) for h in result.held] == [
        ("billing", "legal_claim"),
        ("invoices", "bookkeeping_primary"),
    ]


def test_holds_on_categories_out_of_scope_change_nothing() -> None:
    hold = Hold(basis_code="outstanding_claim", categories=("invoices",))
    result = plan(["newsletter"], [hold])
    assert result.erase == ("newsletter",)
    assert result.held == ()


def test_the_longest_hold_is_the_one_recorded() -> None:
    short = Hold(basis_code="complaint_period", categories=("contact",), until=date(2027, 1, 1))
    long = Hold(basis_code="bookkeeping_act", categories=("contact",), until=date(2031, 1, 1))
    open_ended = Hold(basis_code="outstanding_claim", categories=("contact",))
    assert plan(["contact"], [short, long]).held[0].basis_code == "bookkeeping_act"
    assert plan(["contact"], [long, short]).held[0].basis_code == "bookkeeping_act"
    assert plan(["contact"], [short, open_ended, long]).held[0].basis_code == "outstanding_claim"


def test_everything_held_means_nothing_to_erase() -> None:
    hold = Hold(basis_code="legal_claim", categories=("contact", "invoices"), source="staff")
    result = plan(["contact", "invoices", "contact"], [hold])
    assert result.nothing_to_erase
    assert [h.category for h in result.held] == ["contact", "invoices"]
    assert {h.source for h in result.held} == {"staff"}
