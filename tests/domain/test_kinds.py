"""The kind policy table covers every kind, and the rules derived from it agree with the law."""

from __future__ import annotations

from app.domain import kinds
from app.domain.kinds import FirstStep
from app.domain.requests import RequestKind


def test_every_kind_has_a_policy() -> None:
    assert set(kinds.POLICIES) == set(RequestKind)


def test_only_access_and_portability_are_answered_with_the_data() -> None:
    answered = {k for k in RequestKind if kinds.policy(k).answered_with_report}
    assert answered == {RequestKind.access, RequestKind.portability}
    assert [k for k in RequestKind if kinds.policy(k).portable_only] == [RequestKind.portability]


def test_erasing_kinds_find_holds_first_and_tell_recipients() -> None:
    assert {
        RequestKind.erasure,
        RequestKind.objection,
        RequestKind.withdraw_consent,
    } == kinds.ERASING_KINDS
    for kind in kinds.ERASING_KINDS:
        assert kinds.policy(kind).first_step is FirstStep.holds_then_erase
        assert kinds.policy(kind).tells_recipients  # Art. 19


def test_art19_covers_rectification_erasure_and_restriction() -> None:
    told = {k for k in RequestKind if kinds.policy(k).tells_recipients}
    assert {RequestKind.rectification, RequestKind.erasure, RequestKind.restriction} <= told
    assert RequestKind.access not in told
