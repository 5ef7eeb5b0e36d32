"""The connector SDK's hold codes are exactly the domain catalogue's built-in bases."""

from __future__ import annotations

from app.connectors import HOLD_BASIS_CODES, HoldBasis
from app.domain.holds import CATALOGUE


def test_sdk_codes_match_the_catalogue() -> None:
    assert sorted(HOLD_BASIS_CODES) == sorted(basis.code for basis in CATALOGUE)


def test_short_names_are_aliases_of_catalogue_codes() -> None:
    assert HoldBasis.bookkeeping is HoldBasis.bookkeeping_primary
    assert HoldBasis.regulatory.value == "regulatory_registry"
