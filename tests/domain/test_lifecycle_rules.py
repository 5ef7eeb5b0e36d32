"""The request lifecycle as pure rules: every action from every state, and who may act."""

from __future__ import annotations

import pytest

from app.domain.errors import InvalidTransition, NotPermitted
from app.domain.requests import (
    TERMINAL,
    Action,
    RequestStatus,
    Role,
    allowed_actions,
    next_status,
    require_staff_role,
)

S = RequestStatus
LEGAL = {
    (S.received, Action.verify): S.verified,
    (S.received, Action.refuse): S.refused,
    (S.received, Action.withdraw): S.withdrawn,
    (S.received, Action.close_unverified): S.closed_unverified,
    (S.received, Action.extend): S.received,
    (S.verified, Action.start): S.in_progress,
    (S.verified, Action.complete): S.completed,
    (S.verified, Action.refuse): S.refused,
    (S.verified, Action.withdraw): S.withdrawn,
    (S.verified, Action.extend): S.verified,
    (S.in_progress, Action.await_manual): S.awaiting_manual,
    (S.in_progress, Action.complete): S.completed,
    (S.in_progress, Action.refuse): S.refused,
    (S.in_progress, Action.withdraw): S.withdrawn,
    (S.in_progress, Action.extend): S.in_progress,
    (S.awaiting_manual, Action.resume): S.in_progress,
    (S.awaiting_manual, Action.complete): S.completed,
    (S.awaiting_manual, Action.refuse): S.refused,
    (S.awaiting_manual, Action.withdraw): S.withdrawn,
    (S.awaiting_manual, Action.extend): S.awaiting_manual,
    (S.verified, Action.await_review): S.awaiting_review,
    (S.in_progress, Action.await_review): S.awaiting_review,
    (S.awaiting_manual, Action.await_review): S.awaiting_review,
    (S.awaiting_review, Action.release): S.completed,
    (S.awaiting_review, Action.refuse): S.refused,
    (S.awaiting_review, Action.withdraw): S.withdrawn,
    (S.awaiting_review, Action.extend): S.awaiting_review,
}


@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(Action))
def test_every_action_from_every_state(status, action):
    if (status, action) in LEGAL:
        assert next_status(status, action) is LEGAL[(status, action)]
        assert action in allowed_actions(status)
    else:
        with pytest.raises(InvalidTransition):
            next_status(status, action)
        assert action not in allowed_actions(status)


def test_terminal_states_allow_nothing():
    for status in TERMINAL:
        assert allowed_actions(status) == []


@pytest.mark.parametrize(
    ("action", "allowed"),
    [
        (Action.verify, {Role.operator, Role.admin}),
        (Action.refuse, {Role.approver, Role.admin}),
        (Action.extend, {Role.approver, Role.admin}),
        (Action.withdraw, {Role.operator, Role.approver, Role.admin}),
        (Action.complete, set()),  # only the service itself completes a request
    ],
)
def test_who_may_act(action, allowed):
    for role in Role:
        if role in allowed:
            require_staff_role(action, frozenset({role}))
        else:
            with pytest.raises(NotPermitted):
                require_staff_role(action, frozenset({role}))
