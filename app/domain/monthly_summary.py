"""The monthly summary a data protection officer puts in the annual report: requests received
by kind, answers given and how many in time, the median days to answer, extensions,
refusals and withdrawals. Pure counting over facts of requests; months in Europe/Oslo.

Each figure counts the month its event happened in: a request received in March and answered
in April is received in March and answered in April. An answer is a completion or a refusal
(both tell the person the outcome, Art. 12(3)-(4)); it is on time when given by the end of the
deadline in force (extended or not). Days to answer are calendar days in Oslo from receipt.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from app.domain.requests import RequestKind, RequestStatus

OSLO = ZoneInfo("Europe/Oslo")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month | None:
        """``2026-11``, or None when it is not a month."""
        found = _MONTH.match(text)
        if found is None:
            return None
        year, month = int(found[1]), int(found[2])
        return cls(year, month) if 2000 <= year <= 2200 and 1 <= month <= 12 else None

    @classmethod
    def of(cls, moment: datetime) -> Month:
        """The Oslo month ``moment`` falls in."""
        local = moment.astimezone(OSLO)
        return cls(local.year, local.month)

    def shifted(self, months: int) -> Month:
        index = self.year * 12 + self.month - 1 + months
        return Month(index // 12, index % 12 + 1)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def starts_at(self) -> datetime:
        """Midnight in Oslo on the first day, as an aware datetime."""
        return datetime(self.year, self.month, 1, tzinfo=OSLO)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def last_months(end: Month, count: int = 12) -> list[Month]:
    """``count`` months up to and including ``end``, oldest first."""
    return [end.shifted(-i) for i in range(count - 1, -1, -1)]


@dataclass(frozen=True)
class RequestFacts:
    """What the summary needs of one request: no person, no content."""

    kind: str
    status: str
    received_at: datetime
    due_at: datetime  # the end of the deadline in force (extended or not)
    completed_at: datetime | None = None
    closed_at: datetime | None = None
    extended_at: datetime | None = None

    @property
    def answered_at(self) -> datetime | None:
        if self.status == RequestStatus.completed:
            return self.completed_at
        if self.status == RequestStatus.refused:
            return self.closed_at
        return None

    @property
    def withdrawn_at(self) -> datetime | None:
        return self.closed_at if self.status == RequestStatus.withdrawn else None

    @property
    def refused_at(self) -> datetime | None:
        return self.closed_at if self.status == RequestStatus.refused else None


@dataclass(frozen=True)
class Figures:
    """One period's figures (a month, or several months together)."""

    received: dict[RequestKind, int]
    answered: int
    on_time: int
    days_to_answer: tuple[int, ...]
    extended: int
    refused: int
    withdrawn: int

    @property
    def received_total(self) -> int:
        return sum(self.received.values())

    @property
    def late(self) -> int:
        return self.answered - self.on_time

    @property
    def on_time_share(self) -> float | None:
        """On-time answers as a share of all answers (0.0-1.0); None without answers."""
        return self.on_time / self.answered if self.answered else None

    @property
    def median_days(self) -> float | None:
        return median(self.days_to_answer)


def median(values: Sequence[int]) -> float | None:
    """The middle value (the mean of the two middle ones for an even count); None if empty."""
    return float(statistics.median(values)) if values else None


def days_between(start: datetime, end: datetime) -> int:
    """Calendar days in Oslo from ``start`` to ``end`` (the same day is 0)."""
    return (end.astimezone(OSLO).date() - start.astimezone(OSLO).date()).days


def figures(facts: Iterable[RequestFacts], months: Iterable[Month]) -> Figures:
    """The figures of the events that happened in ``months``."""
    wanted = set(months)

    def within(moment: datetime | None) -> bool:
        return moment is not None and Month.of(moment) in wanted

    received = dict.fromkeys(RequestKind, 0)
    answered = on_time = extended = refused = withdrawn = 0
    days: list[int] = []
    for fact in facts:
        if within(fact.received_at) and fact.kind in received:
            received[RequestKind(fact.kind)] += 1
        answer = fact.answered_at
        if answer is not None and within(answer):
            answered += 1
            on_time += answer <= fact.due_at
            days.append(days_between(fact.received_at, answer))
        extended += within(fact.extended_at)
        refused += within(fact.refused_at)
        withdrawn += within(fact.withdrawn_at)
    return Figures(
        received=received,
        answered=answered,
        on_time=on_time,
        days_to_answer=tuple(sorted(days)),
        extended=extended,
        refused=refused,
        withdrawn=withdrawn,
    )


@dataclass(frozen=True)
class Summary:
    """The chosen month, each of the twelve months up to it, and those twelve together."""

    month: Month
    chosen: Figures
    months: list[tuple[Month, Figures]]
    year: Figures


def summarise(facts: Sequence[RequestFacts], month: Month, *, count: int = 12) -> Summary:
    months = last_months(month, count)
    per_month = [(m, figures(facts, [m])) for m in months]
    return Summary(
        month=month, chosen=per_month[-1][1], months=per_month, year=figures(facts, months)
    )
