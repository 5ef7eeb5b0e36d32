"""The monthly summary's arithmetic: months in Oslo, answers on time, the median."""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.monthly_summary import (
    Month,
    RequestFacts,
    days_between,
    figures,
    last_months,
    median,
    summarise,
)
from app.domain.requests import RequestKind


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def test_months_parse_shift_and_follow_oslo():
    assert Month.parse("2026-11") == Month(2026, 11)
    assert Month.parse("2026-13") is None and Month.parse("26-11") is None
    assert Month.parse("2026-11x") is None
    assert Month(2026, 1).shifted(-1) == Month(2025, 12)
    assert Month(2026, 11).shifted(14) == Month(2028, 1)
    assert str(Month(2026, 3)) == "2026-03"
    # 23:30 UTC on 30 November is 00:30 on 1 December in Oslo
    assert Month.of(at("2026-11-30", 23).replace(minute=30)) == Month(2026, 12)
    assert last_months(Month(2026, 2), 3) == [Month(2025, 12), Month(2026, 1), Month(2026, 2)]


def test_median_of_odd_and_even_counts():
    assert median([]) is None
    assert median([5]) == 5.0
    assert median([9, 1, 4]) == 4.0
    assert median([1, 2, 4, 10]) == 3.0


def test_days_are_calendar_days_in_oslo():
    assert days_between(at("2026-03-02"), at("2026-03-02", 22)) == 0  # 23:00 in Oslo
    assert days_between(at("2026-03-02"), at("2026-03-02", 23)) == 1  # 00:00 next day
    assert days_between(at("2026-03-02"), at("2026-03-12")) == 10


def fact(kind: str, status: str, received: str, due: str, **times: datetime) -> RequestFacts:
    return RequestFacts(kind, status, at(received), at(due, 23), **times)


FACTS = [
    # answered in March, on time, after 10 days
    fact("access", "completed", "2026-03-02", "2026-04-02", completed_at=at("2026-03-12")),
    # answered in April, late (the deadline in force ended 2 April), after 40 days
    fact("access", "completed", "2026-03-02", "2026-04-02", completed_at=at("2026-04-11")),
    # extended in March, answered on time in May within the extension, after 70 days
    fact(
        "erasure",
        "completed",
        "2026-03-03",
        "2026-06-03",
        extended_at=at("2026-03-20"),
        completed_at=at("2026-05-12"),
    ),
    # refused in March: an answer, on time, after 4 days
    fact("objection", "refused", "2026-03-05", "2026-04-07", closed_at=at("2026-03-09")),
    # withdrawn in March: not an answer
    fact("portability", "withdrawn", "2026-03-06", "2026-04-07", closed_at=at("2026-03-07")),
    # still open
    fact("access", "in_progress", "2026-04-01", "2026-05-04"),
]


def test_a_month_counts_the_events_that_happened_in_it():
    march = figures(FACTS, [Month(2026, 3)])
    assert march.received[RequestKind.access] == 2
    assert march.received[RequestKind.erasure] == 1
    assert march.received[RequestKind.rectification] == 0
    assert march.received_total == 5
    assert (march.answered, march.on_time, march.late) == (2, 2, 0)
    assert march.days_to_answer == (4, 10) and march.median_days == 7.0
    assert march.on_time_share == 1.0
    assert (march.extended, march.refused, march.withdrawn) == (1, 1, 1)
    april = figures(FACTS, [Month(2026, 4)])
    assert april.received_total == 1
    assert (april.answered, april.on_time, april.on_time_share) == (1, 0, 0.0)
    empty = figures(FACTS, [Month(2026, 7)])
    assert empty.on_time_share is None and empty.median_days is None


def test_the_summary_has_twelve_months_and_their_total():
    summary = summarise(FACTS, Month(2026, 5))
    assert [m for m, _ in summary.months][0] == Month(2025, 6)
    assert len(summary.months) == 12 and summary.chosen.answered == 1
    year = summary.year
    assert year.received_total == 6
    assert (year.answered, year.on_time) == (4, 3)
    assert year.on_time_share == 0.75
    assert year.days_to_answer == (4, 10, 40, 70) and year.median_days == 25.0
