"""Statutory retention dates for legal holds (rules.md §4). Pure date arithmetic, no I/O.

Bookkeeping periods run from the END of the financial year, never from the event itself:
an invoice issued on 2 January 2025 and one issued on 31 December 2025 are both kept until
31 December 2030 (bokføringsloven § 13). Limitation runs from the day a claim could first be
demanded, i.e. the due date (foreldelsesloven §§ 2-3), and a last day that is not a working day
moves to the next working day (§ 29). All functions return the last day data must still be kept.
"""

from __future__ import annotations

import calendar
from datetime import date

from app.domain.deadlines import add_months, next_working_day

__all__ = [
    "BOOKKEEPING_PRIMARY_YEARS",
    "BOOKKEEPING_SECONDARY_MONTHS",
    "LIMITATION_YEARS",
    "bookkeeping_primary_until",
    "bookkeeping_secondary_until",
    "fy_end",
    "limitation_until",
]

BOOKKEEPING_PRIMARY_YEARS = 5  # bokføringsloven § 13 (1) nr. 1: primary documentation
BOOKKEEPING_SECONDARY_MONTHS = 42  # § 13 (1) nr. 2: secondary documentation, 3 years 6 months
LIMITATION_YEARS = 3  # foreldelsesloven § 2: the general limitation period


def _last_day_of_month(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def fy_end(day: date, *, year_end_month: int = 12) -> date:
    """The last day of the financial year that ``day`` falls in.

    Args:
        day: any date inside the financial year.
        year_end_month: the month the financial year ends in (12 = calendar year; a company
            with an avvikende regnskapsår ending 30 June passes 6).

    Returns:
        The last day of ``year_end_month`` in the year that closes the period containing ``day``.
    """
    if not 1 <= year_end_month <= 12:
        raise ValueError("year_end_month must be 1-12")
    year = day.year if day.month <= year_end_month else day.year + 1
    return _last_day_of_month(year, year_end_month)


def _months_after_fy_end(day: date, months: int, year_end_month: int) -> date:
    """``months`` after the financial year's end, staying on a month's last day."""
    end = fy_end(day, year_end_month=year_end_month)
    shifted = add_months(end, months)
    return _last_day_of_month(shifted.year, shifted.month)


def bookkeeping_primary_until(day: date, *, year_end_month: int = 12) -> date:
    """Primary documentation (invoices, vouchers): 5 years after the financial year's end."""
    return _months_after_fy_end(day, 12 * BOOKKEEPING_PRIMARY_YEARS, year_end_month)


def bookkeeping_secondary_until(day: date, *, year_end_month: int = 12) -> date:
    """Secondary documentation (agreements, packing slips): 3.5 years after the FY end."""
    return _months_after_fy_end(day, BOOKKEEPING_SECONDARY_MONTHS, year_end_month)


def limitation_until(due: date, *, years: int = LIMITATION_YEARS) -> date:
    """The earliest day a claim due on ``due`` becomes time-barred.

    A lower bound: the period can be interrupted (legal action, acknowledgement) or extended by
    one year when the creditor lacked knowledge (§ 10), so an open claim is held "until settled"
    and this date is only the earliest end.
    """
    return next_working_day(add_months(due, 12 * years))
