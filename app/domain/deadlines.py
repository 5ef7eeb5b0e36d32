"""Art. 12(3) deadlines: one-month periods, extensions, pauses and working-day roll-forward.

Rules D3-D8 of the rules catalogue. Pure date arithmetic in Europe/Oslo; no I/O.
"""

from __future__ import annotations

import calendar
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from holidays.countries.norway import Norway

__all__ = [
    "OSLO",
    "Deadline",
    "add_months",
    "end_of_day_utc",
    "extended_deadline",
    "first_deadline",
    "is_working_day",
    "next_working_day",
    "paused_days",
    "receipt_date",
    "shift",
]

OSLO: ZoneInfo = ZoneInfo("Europe/Oslo")

_SATURDAY = 5


def receipt_date(received_at: datetime) -> date:
    """The Oslo calendar date of receipt; the period counts from this day (D2, D3).

    A naive datetime is refused: guessing its zone could move receipt across midnight.
    """
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    return received_at.astimezone(OSLO).date()


def add_months(start: date, months: int) -> date:
    """Same day number ``months`` later, clamped to the month's last day (Reg. 1182/71 art. 3)."""
    year, month_index = divmod(start.year * 12 + (start.month - 1) + months, 12)
    month = month_index + 1
    last_day = calendar.monthrange(year, month)[1]
    return date(year, month, min(start.day, last_day))


@lru_cache(maxsize=256)
def _public_holidays(year: int) -> frozenset[date]:
    """Norwegian public holidays for one year, cached: deadline sweeps hit the same few years.

    ``include_sundays=False`` keeps this to the statutory days of rules.md §7; weekends are
    handled separately in :func:`is_working_day`.
    """
    calendar_ = Norway(years=year, include_sundays=False)
    return frozenset(calendar_.keys())


def is_working_day(day: date) -> bool:
    """False on Saturdays, Sundays and Norwegian public holidays (D4)."""
    return day.weekday() < _SATURDAY and day not in _public_holidays(day.year)


def next_working_day(day: date) -> date:
    """``day`` itself if it is a working day, else the first working day after it (D4)."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


@dataclass(frozen=True)
class Deadline:
    """Both dates D4 asks us to keep.

    ``target`` is the computed date before roll-forward (alert on it, so we never rely on the
    weekend grace); ``legal`` is the date the law actually allows (shown to the requester).
    """

    target: date
    legal: date


def _deadline(target: date) -> Deadline:
    return Deadline(target=target, legal=next_working_day(target))


def first_deadline(received: date) -> Deadline:
    """Receipt + one month (D1, D3)."""
    return _deadline(add_months(received, 1))


def extended_deadline(received: date, months: int) -> Deadline:
    """Deadline after an Art. 12(3) extension of 1 or 2 further months (D7).

    The counting method is unsettled (D8), so take the earlier of receipt + (1 + months) and
    (receipt + 1) + months: 31 Jan + 2 gives 28 Apr, not 30 Apr.
    """
    if months not in (1, 2):
        raise ValueError("an extension must be 1 or 2 months")
    target = min(add_months(received, 1 + months), add_months(add_months(received, 1), months))
    return _deadline(target)


def paused_days(pauses: Sequence[tuple[datetime, datetime | None]], now: datetime) -> int:
    """Whole Oslo calendar days the clock was suspended (D5, D6).

    Each pause covers the Oslo dates [start, end): a pause within one day counts 0. An open
    pause runs to ``now``. Overlapping pauses are merged so no day is counted twice.
    """
    spans: list[tuple[date, date]] = []
    for start, end in pauses:
        first = receipt_date(start)
        if end is None:
            # An open pause that starts after `now` (clock skew) has suspended nothing yet.
            last = max(first, receipt_date(now))
        else:
            last = receipt_date(end)
            if last < first:
                raise ValueError("a pause cannot end before it starts")
        if last > first:
            spans.append((first, last))

    total = 0
    current: tuple[date, date] | None = None
    for first, last in sorted(spans):
        if current is None or first > current[1]:
            if current is not None:
                total += (current[1] - current[0]).days
            current = (first, last)
        else:
            current = (current[0], max(current[1], last))
    if current is not None:
        total += (current[1] - current[0]).days
    return total


def shift(deadline: Deadline, days: int) -> Deadline:
    """Move the target by ``days`` calendar days (e.g. a pause) and roll ``legal`` afresh.

    The legal date is recomputed from the new target, not shifted, since the old roll-forward
    no longer applies.
    """
    return _deadline(deadline.target + timedelta(days=days))


def end_of_day_utc(day: date) -> datetime:
    """The last instant of ``day`` in Oslo, in UTC: a deadline is met until then (D3)."""
    return datetime.combine(day, time.max, tzinfo=OSLO).astimezone(UTC)


MAX_EXTENSION_MONTHS = 2  # Art. 12(3)


def extension_refused(now: datetime, legal_due: date, already: int, months: int) -> str | None:
    """Why an extension by ``months`` cannot be granted now, or None when it can: it must be
    decided before the first deadline ends, and two further months is all the law allows."""
    if now > end_of_day_utc(legal_due):
        return "the first deadline has passed: it can no longer be extended"
    if already + months > MAX_EXTENSION_MONTHS:
        return f"already extended by {already} month(s); the law allows two in all"
    return None


def overdue(open_: bool, effective_due_at: datetime, now: datetime) -> bool:
    """An open request whose deadline in force has ended."""
    return open_ and now > effective_due_at


def next_alert_at(
    effective_due_at: datetime, target: date, days_before: Sequence[int], fired: Collection[str]
) -> datetime | None:
    """When the deadline sweep must look at a request next: a moment at or just before the
    earliest alert point that has not fired (``alert_points`` decides what is reached then);
    None once the overdue alert has fired, as nothing follows it."""
    if "overdue" in fired:
        return None
    moments = [
        end_of_day_utc(target - timedelta(days=d + 1))  # the day before the point starts
        for d in days_before
        if f"due_in_{d}d" not in fired
    ]
    return min([*moments, effective_due_at])


def alert_points(
    now: datetime, effective_due_at: datetime, target: date, days_before: Sequence[int]
) -> list[str]:
    """Alert points reached now, most urgent first: overdue once the legal deadline in force
    has ended, else ``due_in_<n>d`` counted back from the un-rolled target (D4)."""
    if now > effective_due_at:
        return ["overdue"]
    today = receipt_date(now)
    return [f"due_in_{d}d" for d in sorted(days_before) if today >= target - timedelta(days=d)]
