"""Deadline rules D3-D8. Expected dates were worked out by hand from the calendar, not the code."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain import deadlines
from app.domain.deadlines import (
    OSLO,
    Deadline,
    add_months,
    end_of_day_utc,
    extended_deadline,
    first_deadline,
    is_working_day,
    next_working_day,
    paused_days,
    receipt_date,
    shift,
)

D = date.fromisoformat

# (received, target = received + 1 month, legal = target rolled to a working day)
FIRST_DEADLINE_CASES = [
    # D3 examples
    ("2024-03-05", "2024-04-05", "2024-04-05"),  # Fri
    ("2025-08-31", "2025-09-30", "2025-09-30"),  # Tue; 31 Sep does not exist
    ("2025-01-31", "2025-02-28", "2025-02-28"),  # Fri; non-leap
    ("2024-01-31", "2024-02-29", "2024-02-29"),  # Thu; leap year
    ("2025-01-30", "2025-02-28", "2025-02-28"),  # 30 Feb does not exist either
    ("2023-01-29", "2023-02-28", "2023-02-28"),  # Tue; 29 Feb 2023 does not exist
    ("2025-03-31", "2025-04-30", "2025-04-30"),  # Wed
    ("2025-05-31", "2025-06-30", "2025-06-30"),  # Mon
    # weekends
    ("2025-03-05", "2025-04-05", "2025-04-07"),  # Sat -> Mon
    ("2025-08-07", "2025-09-07", "2025-09-08"),  # Sun -> Mon
    # Easter 2025 (Easter Sunday 20 Apr): Thu 17 .. Mon 21 are all non-working
    ("2025-03-17", "2025-04-17", "2025-04-22"),  # Maundy Thursday (rules.md §7 example)
    ("2025-03-18", "2025-04-18", "2025-04-22"),  # Good Friday
    ("2025-03-21", "2025-04-21", "2025-04-22"),  # Easter Monday
    # Easter 2024 (Easter Sunday 31 Mar)
    ("2024-02-28", "2024-03-28", "2024-04-02"),  # Maundy Thursday
    ("2024-02-29", "2024-03-29", "2024-04-02"),  # Good Friday
    ("2024-03-01", "2024-04-01", "2024-04-02"),  # Easter Monday
    # Easter 2026 (Easter Sunday 5 Apr)
    ("2026-03-02", "2026-04-02", "2026-04-07"),  # Maundy Thursday
    ("2026-03-06", "2026-04-06", "2026-04-07"),  # Easter Monday
    # 1 May
    ("2025-04-01", "2025-05-01", "2025-05-02"),  # Thu -> Fri
    ("2024-04-01", "2024-05-01", "2024-05-02"),  # Wed -> Thu
    # 17 May
    ("2024-04-17", "2024-05-17", "2024-05-21"),  # Fri, then weekend, then Whit Monday 20 May
    ("2026-04-17", "2026-05-17", "2026-05-18"),  # Sun -> Mon
    ("2027-04-17", "2027-05-17", "2027-05-18"),  # Mon; also Whit Monday in 2027
    # Ascension Day (Easter + 39)
    ("2025-04-29", "2025-05-29", "2025-05-30"),
    ("2024-04-09", "2024-05-09", "2024-05-10"),
    # Whit Monday (Easter + 50)
    ("2025-05-09", "2025-06-09", "2025-06-10"),
    ("2026-04-25", "2026-05-25", "2026-05-26"),
    # Christmas (24 Dec is a working day: julaften is not a public holiday)
    ("2025-11-25", "2025-12-25", "2025-12-29"),  # rules.md §7 example: Thu, Fri 26, weekend
    ("2025-11-26", "2025-12-26", "2025-12-29"),
    ("2025-11-24", "2025-12-24", "2025-12-24"),
    # New Year and year-end crossings
    ("2024-12-01", "2025-01-01", "2025-01-02"),  # Wed -> Thu
    ("2025-12-01", "2026-01-01", "2026-01-02"),  # Thu -> Fri
    ("2025-12-15", "2026-01-15", "2026-01-15"),  # plain Dec -> Jan
    ("2025-12-31", "2026-01-31", "2026-02-02"),  # Sat -> Mon, crossing into February
]


@pytest.mark.parametrize(("received", "target", "legal"), FIRST_DEADLINE_CASES)
def test_first_deadline(received: str, target: str, legal: str) -> None:
    assert first_deadline(D(received)) == Deadline(target=D(target), legal=D(legal))


def test_first_deadline_table_is_large_enough() -> None:
    assert len(FIRST_DEADLINE_CASES) >= 25


# (received, extension months, target, legal)
EXTENDED_CASES = [
    ("2025-01-31", 2, "2025-04-28", "2025-04-28"),  # D8: min(30 Apr, 28 Feb + 2 = 28 Apr); Mon
    ("2024-01-31", 2, "2024-04-29", "2024-04-29"),  # leap: min(30 Apr, 29 Feb + 2 = 29 Apr); Mon
    ("2025-01-31", 1, "2025-03-28", "2025-03-28"),  # min(31 Mar, 28 Feb + 1 = 28 Mar); Fri
    ("2025-05-31", 1, "2025-07-30", "2025-07-30"),  # min(31 Jul, 30 Jun + 1 = 30 Jul); Wed
    ("2025-11-30", 1, "2026-01-30", "2026-01-30"),  # both readings agree; Fri
    ("2025-05-15", 2, "2025-08-15", "2025-08-15"),  # Fri
    ("2025-02-17", 2, "2025-05-17", "2025-05-19"),  # 17 May and Saturday -> Mon
]


@pytest.mark.parametrize(("received", "months", "target", "legal"), EXTENDED_CASES)
def test_extended_deadline(received: str, months: int, target: str, legal: str) -> None:
    assert extended_deadline(D(received), months) == Deadline(target=D(target), legal=D(legal))


@pytest.mark.parametrize("months", [0, 3, -1])
def test_extended_deadline_rejects_out_of_range_months(months: int) -> None:
    with pytest.raises(ValueError, match="1 or 2"):
        extended_deadline(D("2025-01-31"), months)


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2025-03-05", 1, "2025-04-05"),
        ("2025-01-31", 1, "2025-02-28"),
        ("2024-01-31", 1, "2024-02-29"),
        ("2025-12-15", 1, "2026-01-15"),
        ("2025-11-30", 3, "2026-02-28"),
        ("2024-02-29", 12, "2025-02-28"),
        ("2025-03-31", -1, "2025-02-28"),
        ("2025-01-15", -1, "2024-12-15"),
        ("2025-06-10", 0, "2025-06-10"),
    ],
)
def test_add_months(start: str, months: int, expected: str) -> None:
    assert add_months(D(start), months) == D(expected)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2025-04-15", True),  # Tue
        ("2025-04-05", False),  # Sat
        ("2025-04-06", False),  # Sun
        ("2025-04-20", False),  # Easter Sunday
        ("2025-05-17", False),  # Constitution Day on a Saturday
        ("2025-12-24", True),  # julaften is not a public holiday
        ("2025-12-31", True),  # nor is nyttårsaften
        ("2025-04-19", False),  # påskeaften: a Saturday anyway
    ],
)
def test_is_working_day(day: str, working: bool) -> None:
    assert is_working_day(D(day)) is working


def test_next_working_day_keeps_a_working_day() -> None:
    assert next_working_day(D("2025-04-15")) == D("2025-04-15")
    assert next_working_day(D("2025-04-17")) == D("2025-04-22")


def test_holidays_are_cached_per_year() -> None:
    deadlines._public_holidays.cache_clear()
    for offset in range(365):
        is_working_day(D("2031-01-01") + timedelta(days=offset))
    info = deadlines._public_holidays.cache_info()
    assert info.misses == 1  # one holiday lookup for the whole year
    assert info.hits > 200  # every other weekday reused it


@pytest.mark.parametrize(
    ("received_at", "expected"),
    [
        # Summer time (UTC+2) started 30 Mar 2025
        (datetime(2025, 3, 31, 22, 30, tzinfo=UTC), "2025-04-01"),
        (datetime(2025, 3, 31, 21, 59, 59, tzinfo=UTC), "2025-03-31"),
        # Winter time (UTC+1)
        (datetime(2025, 1, 15, 22, 59, 59, tzinfo=UTC), "2025-01-15"),
        (datetime(2025, 1, 15, 23, 0, tzinfo=UTC), "2025-01-16"),
        # any aware zone works
        (datetime(2025, 1, 16, 3, 30, tzinfo=timezone(timedelta(hours=5))), "2025-01-15"),
        (datetime(2025, 1, 16, 0, 30, tzinfo=OSLO), "2025-01-16"),
    ],
)
def test_receipt_date(received_at: datetime, expected: str) -> None:
    assert receipt_date(received_at) == D(expected)


def test_receipt_date_rejects_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        receipt_date(datetime(2025, 3, 31, 22, 30))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


NOW = utc("2025-03-20T12:00")

PAUSE_CASES = [
    pytest.param([], 0, id="none"),
    pytest.param([(utc("2025-03-01T10:00"), utc("2025-03-04T09:00"))], 3, id="single"),
    pytest.param([(utc("2025-03-01T08:00"), utc("2025-03-01T20:00"))], 0, id="same-oslo-day"),
    # 23:30 -> 00:30 Oslo time: one hour, but it spans a date change
    pytest.param([(utc("2025-03-01T22:30"), utc("2025-03-01T23:30"))], 1, id="over-midnight"),
    pytest.param(
        [
            (utc("2025-03-01T10:00"), utc("2025-03-05T10:00")),
            (utc("2025-03-03T10:00"), utc("2025-03-08T10:00")),
        ],
        7,
        id="overlap",
    ),
    pytest.param(
        [
            (utc("2025-03-03T10:00"), utc("2025-03-05T10:00")),
            (utc("2025-03-01T10:00"), utc("2025-03-10T10:00")),
        ],
        9,
        id="contained-unsorted",
    ),
    pytest.param(
        [
            (utc("2025-03-01T10:00"), utc("2025-03-03T10:00")),
            (utc("2025-03-03T12:00"), utc("2025-03-05T10:00")),
        ],
        4,
        id="adjacent",
    ),
    pytest.param(
        [
            (utc("2025-03-01T10:00"), utc("2025-03-03T10:00")),
            (utc("2025-03-05T10:00"), utc("2025-03-06T10:00")),
        ],
        3,
        id="disjoint",
    ),
    pytest.param([(utc("2025-03-10T10:00"), None)], 10, id="open"),
    pytest.param(
        [
            (utc("2025-03-01T10:00"), utc("2025-03-12T10:00")),
            (utc("2025-03-11T10:00"), None),
        ],
        19,
        id="open-overlapping-closed",
    ),
    pytest.param([(utc("2025-03-25T10:00"), None)], 0, id="open-starting-after-now"),
]


@pytest.mark.parametrize(("pauses", "expected"), PAUSE_CASES)
def test_paused_days(pauses: list[tuple[datetime, datetime | None]], expected: int) -> None:
    assert paused_days(pauses, NOW) == expected


def test_paused_days_rejects_pause_ending_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        paused_days([(utc("2025-03-05T10:00"), utc("2025-03-01T10:00"))], NOW)


def test_paused_days_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        paused_days([(datetime(2025, 3, 1), None)], NOW)


def test_shift_recomputes_legal_from_new_target() -> None:
    saturday = Deadline(target=D("2025-04-05"), legal=D("2025-04-07"))
    assert shift(saturday, 3) == Deadline(target=D("2025-04-08"), legal=D("2025-04-08"))
    # 10 Apr 2025 (Thu) + 7 days = Maundy Thursday
    assert shift(first_deadline(D("2025-03-10")), 7) == Deadline(
        target=D("2025-04-17"), legal=D("2025-04-22")
    )
    assert shift(saturday, 0) == saturday


def test_shift_by_paused_days() -> None:
    pauses: list[tuple[datetime, datetime | None]] = [
        (utc("2025-03-03T09:00"), utc("2025-03-06T09:00"))
    ]
    # 5 Mar + 1 month = 5 Apr 2025 (Sat); + 3 paused days = 8 Apr (Tue)
    deadline = shift(first_deadline(D("2025-03-05")), paused_days(pauses, NOW))
    assert deadline == Deadline(target=D("2025-04-08"), legal=D("2025-04-08"))


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2025-01-15", datetime(2025, 1, 15, 22, 59, 59, 999999, tzinfo=UTC)),  # UTC+1
        ("2025-07-15", datetime(2025, 7, 15, 21, 59, 59, 999999, tzinfo=UTC)),  # UTC+2
    ],
)
def test_end_of_day_utc(day: str, expected: datetime) -> None:
    result = end_of_day_utc(D(day))
    assert result == expected
    assert result.utcoffset() == timedelta(0)
    assert receipt_date(result) == D(day)
    assert receipt_date(result + timedelta(microseconds=1)) == D(day) + timedelta(days=1)


@settings(database=None, max_examples=300)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_first_deadline_properties(received: date) -> None:
    deadline = first_deadline(received)
    assert deadline.legal >= deadline.target > received
    assert is_working_day(deadline.legal)
    assert (deadline.legal - deadline.target).days <= 5


def test_extension_is_refused_after_the_first_deadline_or_beyond_two_months():
    from app.domain.deadlines import end_of_day_utc, extension_refused

    due = date(2026, 4, 2)
    before = end_of_day_utc(due) - timedelta(hours=1)
    assert extension_refused(before, due, already=0, months=2) is None
    assert extension_refused(before, due, already=1, months=1) is None
    assert "two in all" in (extension_refused(before, due, already=1, months=2) or "")
    after = end_of_day_utc(due) + timedelta(seconds=1)
    assert "has passed" in (extension_refused(after, due, already=0, months=1) or "")


def test_alert_points_count_back_from_the_target_and_overdue_from_the_legal_end():
    from app.domain.deadlines import alert_points, end_of_day_utc, overdue

    target, legal = date(2026, 4, 4), date(2026, 4, 6)  # a Saturday, rolled to Monday
    end = end_of_day_utc(legal)
    at = datetime(2026, 3, 28, 12, tzinfo=UTC)
    assert alert_points(at, end, target, [7, 1]) == ["due_in_7d"]
    assert alert_points(datetime(2026, 4, 3, 12, tzinfo=UTC), end, target, [7, 1]) == [
        "due_in_1d",
        "due_in_7d",
    ]
    assert alert_points(end + timedelta(seconds=1), end, target, [7, 1]) == ["overdue"]
    assert overdue(True, end, end + timedelta(seconds=1))
    assert not overdue(False, end, end + timedelta(seconds=1))
