"""The request lifecycle as pure rules: kinds, states, legal transitions and who may make them."""

from __future__ import annotations

from enum import StrEnum

from app.domain.errors import InvalidTransition, NotPermitted


class RequestKind(StrEnum):
    """The data-subject rights Innsyn handles, with the GDPR article each rests on."""

    access = "access"  # Art. 15
    rectification = "rectification"  # Art. 16
    erasure = "erasure"  # Art. 17
    restriction = "restriction"  # Art. 18
    portability = "portability"  # Art. 20
    objection = "objection"  # Art. 21
    withdraw_consent = "withdraw_consent"  # Art. 7(3)


class RequestStatus(StrEnum):
    received = "received"
    verified = "verified"
    in_progress = "in_progress"
    awaiting_manual = "awaiting_manual"
    awaiting_review = "awaiting_review"  # the answer waits for an approver to release it
    completed = "completed"
    refused = "refused"
    withdrawn = "withdrawn"
    closed_unverified = "closed_unverified"


TERMINAL = frozenset(
    {
        RequestStatus.completed,
        RequestStatus.refused,
        RequestStatus.withdrawn,
        RequestStatus.closed_unverified,
    }
)


class Channel(StrEnum):
    web = "web"
    email = "email"
    letter = "letter"
    phone = "phone"
    system = "system"  # filed by the service itself, e.g. erasure after a legal hold ends


class Role(StrEnum):
    """Staff roles carried in the staff JWT. ``admin`` may do everything."""

    operator = "operator"
    approver = "approver"
    auditor = "auditor"
    admin = "admin"


class Action(StrEnum):
    """Things that change a request; each maps to one transition and a set of actors."""

    verify = "verify"
    start = "start"
    await_manual = "await_manual"
    resume = "resume"
    complete = "complete"
    await_review = "await_review"
    release = "release"
    refuse = "refuse"
    withdraw = "withdraw"
    close_unverified = "close_unverified"
    extend = "extend"


S = RequestStatus
_TARGET: dict[Action, RequestStatus | None] = {
    Action.verify: S.verified,
    Action.start: S.in_progress,
    Action.await_manual: S.awaiting_manual,
    Action.resume: S.in_progress,
    Action.complete: S.completed,
    Action.await_review: S.awaiting_review,
    Action.release: S.completed,
    Action.refuse: S.refused,
    Action.withdraw: S.withdrawn,
    Action.close_unverified: S.closed_unverified,
    Action.extend: None,  # changes the due date, not the state
}

_ALLOWED_FROM: dict[Action, frozenset[RequestStatus]] = {
    Action.verify: frozenset({S.received}),
    Action.start: frozenset({S.verified}),
    Action.await_manual: frozenset({S.in_progress}),
    Action.resume: frozenset({S.awaiting_manual}),
    Action.complete: frozenset({S.verified, S.in_progress, S.awaiting_manual}),
    Action.await_review: frozenset({S.verified, S.in_progress, S.awaiting_manual}),
    Action.release: frozenset({S.awaiting_review}),
    Action.refuse: frozenset(
        {S.received, S.verified, S.in_progress, S.awaiting_manual, S.awaiting_review}
    ),
    Action.withdraw: frozenset(
        {S.received, S.verified, S.in_progress, S.awaiting_manual, S.awaiting_review}
    ),
    Action.close_unverified: frozenset({S.received}),
    Action.extend: frozenset(
        {S.received, S.verified, S.in_progress, S.awaiting_manual, S.awaiting_review}
    ),
}

# Which staff roles may take each action by hand. ``system`` actions (the planner, the
# scheduler) are taken by the service itself; the data subject may only withdraw.
STAFF_ROLES: dict[Action, frozenset[Role]] = {
    Action.verify: frozenset({Role.operator, Role.admin}),
    Action.refuse: frozenset({Role.approver, Role.admin}),
    Action.release: frozenset({Role.approver, Role.admin}),
    Action.extend: frozenset({Role.approver, Role.admin}),
    Action.withdraw: frozenset({Role.operator, Role.approver, Role.admin}),
}


def next_status(current: RequestStatus, action: Action) -> RequestStatus:
    """The state ``action`` leads to from ``current``; raises when the lifecycle forbids it."""
    if current not in _ALLOWED_FROM[action]:
        raise InvalidTransition(
            f"cannot {action.value} a request that is {current.value}",
            current_status=current.value,
            action=action.value,
        )
    target = _TARGET[action]
    return current if target is None else target


def allowed_actions(current: RequestStatus) -> list[Action]:
    """Actions the lifecycle allows now (shown to dashboards)."""
    return [a for a, sources in _ALLOWED_FROM.items() if current in sources]


def require_staff_role(action: Action, roles: frozenset[Role]) -> None:
    """Staff may take ``action`` only with one of its roles."""
    allowed = STAFF_ROLES.get(action, frozenset())
    if not roles & allowed:
        needed = ", ".join(sorted(r.value for r in allowed)) or "the service itself"
        raise NotPermitted(f"{action.value} needs one of the roles: {needed}")
