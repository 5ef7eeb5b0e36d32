"""The staff queue as rules: which requests need a person, and how urgent a deadline is."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from app.domain.requests import RequestStatus

# A request waits for staff in these states, whatever its tasks do.
WAITING_FOR_STAFF = frozenset({RequestStatus.awaiting_manual, RequestStatus.awaiting_review})


class Urgency(StrEnum):
    overdue = "overdue"
    due_soon = "due_soon"
    in_time = "in_time"


def urgency(open_: bool, effective_due_at: datetime, now: datetime, *, soon_days: int) -> Urgency:
    """Overdue once the legal deadline has passed; due soon within ``soon_days`` of it."""
    if not open_:
        return Urgency.in_time
    if effective_due_at < now:
        return Urgency.overdue
    if effective_due_at - now <= timedelta(days=soon_days):
        return Urgency.due_soon
    return Urgency.in_time
