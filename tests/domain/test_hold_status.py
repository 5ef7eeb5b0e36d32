"""A hold's life: active until it ends one of three ways, and an end is final."""

from __future__ import annotations

import pytest

from app.domain.errors import InvalidTransition
from app.domain.holds import HoldStatus, end

ENDS = [HoldStatus.released, HoldStatus.expired, HoldStatus.ended]


@pytest.mark.parametrize("to", ENDS)
def test_an_active_hold_ends(to: HoldStatus) -> None:
    assert end(HoldStatus.active, to) is to
    assert end("active", to) is to


@pytest.mark.parametrize("current", ENDS)
@pytest.mark.parametrize("to", ENDS)
def test_an_ended_hold_stays_ended(current: HoldStatus, to: HoldStatus) -> None:
    with pytest.raises(InvalidTransition, match="already"):
        end(current, to)


def test_active_is_no_end() -> None:
    with pytest.raises(InvalidTransition):
        end(HoldStatus.active, HoldStatus.active)
