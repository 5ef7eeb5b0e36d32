"""The lifecycles of what leaves Innsyn refuse the transitions they do not list, and the
retry schedules give up when their steps run out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.domain.backoff import Backoff, doubling
from app.domain.deliveries import (
    LETTERS,
    DeliveryStatus,
    Event,
    LetterStatus,
    NoticeStatus,
    next_status,
)
from app.domain.errors import InvalidTransition

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("current", "event", "expected"),
    [
        (LetterStatus.pending, Event.claim, LetterStatus.sending),
        (LetterStatus.sending, Event.claim, LetterStatus.sending),
        (LetterStatus.sending, Event.sent, LetterStatus.sent),
        (LetterStatus.sending, Event.retry, LetterStatus.pending),
        (LetterStatus.sending, Event.give_up, LetterStatus.failed),
        (LetterStatus.to_post, Event.post, LetterStatus.posted),
        (DeliveryStatus.pending, Event.sent, DeliveryStatus.delivered),
        (DeliveryStatus.pending, Event.give_up, DeliveryStatus.failed),
        (NoticeStatus.failed, Event.requeue, NoticeStatus.pending),
        (NoticeStatus.needs_staff, Event.told_otherwise, NoticeStatus.sent),
        (NoticeStatus.pending, Event.disproportionate, NoticeStatus.disproportionate),
    ],
)
def test_legal_transitions(current, event, expected):
    assert next_status(current, event) is expected


@pytest.mark.parametrize(
    ("current", "event"),
    [
        (LetterStatus.sent, Event.claim),  # a letter that left is never sent again
        (LetterStatus.pending, Event.sent),  # only a claimed letter is sent
        (LetterStatus.posted, Event.post),
        (LetterStatus.failed, Event.claim),
        (LetterStatus.to_post, Event.claim),  # a letter for the post is not e-mailed
        (DeliveryStatus.delivered, Event.retry),
        (DeliveryStatus.failed, Event.claim),
        (NoticeStatus.sent, Event.requeue),
        (NoticeStatus.disproportionate, Event.told_otherwise),
        (NoticeStatus.needs_staff, Event.claim),
    ],
)
def test_illegal_transitions_are_refused(current, event):
    with pytest.raises(InvalidTransition) as refused:
        next_status(current, event)
    assert refused.value.extensions["current_status"] == current.value


def test_a_claim_is_allowed_from_the_statuses_the_table_names():
    assert LETTERS.sources(Event.claim) == {LetterStatus.pending, LetterStatus.sending}
    assert LETTERS.target(Event.claim) is LetterStatus.sending


def test_backoff_follows_its_steps_and_then_gives_up():
    schedule = Backoff((5, 300))
    assert schedule.attempts == 3
    assert schedule.after(1, NOW) == NOW + timedelta(seconds=5)
    assert schedule.after(2, NOW) == NOW + timedelta(seconds=300)
    assert schedule.after(3, NOW) is None


def test_backoff_jitter_stays_within_its_spread():
    schedule = Backoff((100,), jitter=0.1)
    for _ in range(50):
        wait = schedule.after(1, NOW)
        assert wait is not None
        assert timedelta(seconds=90) <= wait - NOW <= timedelta(seconds=110)


def test_doubling_is_capped():
    assert doubling(30, 100, attempts=5).steps == (30, 60, 100, 100)
