"""Retention dates: counted from the end of the financial year, limitation from the due date."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.retention import (
    bookkeeping_primary_until,
    bookkeeping_secondary_until,
    fy_end,
    limitation_until,
)


@pytest.mark.parametrize(
    ("day", "year_end_month", "expected"),
    [
        (date(2025, 1, 1), 12, date(2025, 12, 31)),
        (date(2025, 6, 15), 12, date(2025, 12, 31)),
        (date(2025, 12, 31), 12, date(2025, 12, 31)),
        # An avvikende regnskapsår ending 30 June: July belongs to the next year's accounts.
        (date(2025, 6, 30), 6, date(2025, 6, 30)),
        (date(2025, 7, 1), 6, date(2026, 6, 30)),
        # A year ending in February ends on the 29th in a leap year.
        (date(2023, 3, 1), 2, date(2024, 2, 29)),
    ],
)
def test_fy_end(day: date, year_end_month: int, expected: date) -> None:
    assert fy_end(day, year_end_month=year_end_month) == expected


def test_fy_end_rejects_a_month_that_does_not_exist() -> None:
    with pytest.raises(ValueError, match="1-12"):
        fy_end(date(2025, 1, 1), year_end_month=13)


@pytest.mark.parametrize(
    ("issued", "year_end_month", "expected"),
    [
        # rules.md §4: a 2025 invoice is kept to 31.12.2030, whatever the day in 2025.
        (date(2025, 1, 2), 12, date(2030, 12, 31)),
        (date(2025, 12, 31), 12, date(2030, 12, 31)),
        (date(2026, 1, 1), 12, date(2031, 12, 31)),
        # Not event + 5 years: an invoice of 15 March 2025 is not released on 15 March 2030.
        (date(2025, 3, 15), 12, date(2030, 12, 31)),
        (date(2025, 8, 1), 6, date(2031, 6, 30)),
        (date(2023, 3, 1), 2, date(2029, 2, 28)),
    ],
)
def test_bookkeeping_primary_until(issued: date, year_end_month: int, expected: date) -> None:
    assert bookkeeping_primary_until(issued, year_end_month=year_end_month) == expected


@pytest.mark.parametrize(
    ("day", "year_end_month", "expected"),
    [
        # 31.12.2025 + 3 years 6 months = 30.06.2029.
        (date(2025, 1, 2), 12, date(2029, 6, 30)),
        (date(2025, 12, 31), 12, date(2029, 6, 30)),
        # FY ending 30.06.2025: + 3.5 years = 31.12.2028 (a month's last day stays last).
        (date(2025, 6, 1), 6, date(2028, 12, 31)),
    ],
)
def test_bookkeeping_secondary_until(day: date, year_end_month: int, expected: date) -> None:
    assert bookkeeping_secondary_until(day, year_end_month=year_end_month) == expected


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (date(2025, 3, 14), date(2028, 3, 14)),  # a Tuesday: no roll-forward
        # 29 Feb has no counterpart three years later: the month's last day (fl. § 29),
        # 28.02.2027 is a Sunday, so the next working day.
        (date(2024, 2, 29), date(2027, 3, 1)),
        # 25.12.2028 is Christmas Day, 26.12 Boxing Day: next working day 27.12.
        (date(2025, 12, 25), date(2028, 12, 27)),
        # 17.05.2028 is Constitution Day (and Ascension Day is 25.05).
        (date(2025, 5, 17), date(2028, 5, 18)),
    ],
)
def test_limitation_until(due: date, expected: date) -> None:
    assert limitation_until(due) == expected


def test_limitation_until_takes_another_period() -> None:
    assert limitation_until(date(2025, 3, 14), years=10) == date(2035, 3, 14)
