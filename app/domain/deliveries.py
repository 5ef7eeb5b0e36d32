"""The lifecycles of what leaves Innsyn: webhook deliveries, Art. 19 notices, letters.

Each is a StrEnum with a transition table over the same events, and ``next_status`` refuses
what a table does not allow (as ``app.domain.requests.next_status`` does for requests), so a
sender, a sweep and staff can only move a row the way its lifecycle says.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from app.domain.errors import InvalidTransition

S = TypeVar("S", bound=StrEnum)


class Event(StrEnum):
    """What happens to an outgoing row."""

    claim = "claim"  # a sender takes it, under a lease
    sent = "sent"  # the attempt reached the other side
    retry = "retry"  # the attempt failed; another comes later
    give_up = "give_up"  # out of attempts: failed, for staff to see
    post = "post"  # staff posted a printed letter
    told_otherwise = "told_otherwise"  # staff told the recipient another way
    disproportionate = "disproportionate"  # staff found telling it impossible or disproportionate
    requeue = "requeue"  # staff send it again


class DeliveryStatus(StrEnum):
    """A webhook delivery to one subscriber."""

    pending = "pending"  # waiting for its next attempt (or claimed under a lease)
    delivered = "delivered"
    failed = "failed"  # out of attempts


class NoticeStatus(StrEnum):
    """An Art. 19 notice to one recipient."""

    pending = "pending"
    sent = "sent"
    failed = "failed"  # out of attempts: staff resolve it
    disproportionate = "disproportionate"
    needs_staff = "needs_staff"  # no route Innsyn can send by


class LetterStatus(StrEnum):
    """A letter to the person."""

    pending = "pending"  # committed, waiting to leave (at or after ``next_attempt_at``)
    sending = "sending"  # claimed by one sender until ``lease_expires_at``
    sent = "sent"  # handed to the mail server (or the outbox folder); content dropped
    failed = "failed"  # out of attempts: staff see it and reach the person another way
    to_post = "to_post"  # no e-mail address: a printable letter waits for staff to post it
    posted = "posted"  # staff printed and posted it; content dropped


@dataclass(frozen=True)
class Lifecycle(Generic[S]):
    """A transition table: (status, event) → the next status."""

    name: str
    table: Mapping[tuple[S, Event], S]

    def next(self, current: S, event: Event) -> S:
        target = self.table.get((current, event))
        if target is None:
            raise InvalidTransition(
                f"a {self.name} that is {current.value} cannot take {event.value}",
                current_status=current.value,
                action=event.value,
            )
        return target

    def sources(self, event: Event) -> frozenset[S]:
        """The statuses ``event`` may happen in (for a query's ``WHERE status IN``)."""
        return frozenset(s for s, e in self.table if e is event)

    def target(self, event: Event) -> S:
        """The one status ``event`` leads to from wherever it is allowed."""
        (only,) = {t for (_s, e), t in self.table.items() if e is event}
        return only


D, N, L, E = DeliveryStatus, NoticeStatus, LetterStatus, Event


def _attempted(pending: S, *, sent: S, failed: S) -> dict[tuple[S, Event], S]:
    """A row that stays ``pending`` while claimed and retried: sent, or failed at last."""
    return {
        (pending, E.claim): pending,
        (pending, E.sent): sent,
        (pending, E.retry): pending,
        (pending, E.give_up): failed,
    }


DELIVERIES = Lifecycle[DeliveryStatus](
    "webhook delivery",
    _attempted(D.pending, sent=D.delivered, failed=D.failed),
)

NOTICES = Lifecycle[NoticeStatus](
    "recipient notice",
    {
        **_attempted(N.pending, sent=N.sent, failed=N.failed),
        **{(s, E.told_otherwise): N.sent for s in (N.pending, N.failed, N.needs_staff)},
        **{
            (s, E.disproportionate): N.disproportionate
            for s in (N.pending, N.failed, N.needs_staff)
        },
        **{(s, E.requeue): N.pending for s in (N.pending, N.failed, N.needs_staff)},
    },
)

LETTERS = Lifecycle[LetterStatus](
    "letter",
    {
        (L.pending, E.claim): L.sending,
        (L.sending, E.claim): L.sending,  # the sender's lease ran out: another takes it
        (L.sending, E.sent): L.sent,
        (L.sending, E.retry): L.pending,
        (L.sending, E.give_up): L.failed,
        (L.to_post, E.post): L.posted,
    },
)

_BY_TYPE: dict[type[StrEnum], Lifecycle[StrEnum]] = {
    DeliveryStatus: DELIVERIES,  # type: ignore[dict-item]  # one table per status type
    NoticeStatus: NOTICES,  # type: ignore[dict-item]
    LetterStatus: LETTERS,  # type: ignore[dict-item]
}


def lifecycle_of(status: type[S]) -> Lifecycle[S]:
    """The transition table of a status type."""
    return _BY_TYPE[status]  # type: ignore[return-value]  # keyed by the type itself


def next_status(current: S, event: Event) -> S:
    """The status ``event`` leads to from ``current``; raises ``InvalidTransition`` when the
    lifecycle forbids it."""
    return lifecycle_of(type(current)).next(current, event)
