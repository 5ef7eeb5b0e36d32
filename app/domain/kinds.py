"""What each kind of request does, in one table: every place where the kind matters reads it.

The planner picks its first step here, the holds decide whether a follow-up erasure is due,
the report and the letters decide whether the answer is a download, and the views whether a
download link is shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain.requests import RequestKind


class FirstStep(StrEnum):
    collect = "collect"  # ask every system for the person's data
    holds_then_erase = "holds_then_erase"  # find what must be kept, then erase the rest
    rectify = "rectify"
    restrict = "restrict"


@dataclass(frozen=True)
class KindPolicy:
    article: str
    first_step: FirstStep
    erasing: bool  # ends in erasure (holds permitting): a hold that ends erases what it kept
    answered_with_report: bool  # the answer is the person's data, to download
    portable_only: bool = False  # only data the person provided or that was observed
    tells_recipients: bool = False  # Art. 19: recipients are told of what it changed


POLICIES: dict[RequestKind, KindPolicy] = {
    RequestKind.access: KindPolicy("15", FirstStep.collect, False, True),
    RequestKind.portability: KindPolicy("20", FirstStep.collect, False, True, portable_only=True),
    RequestKind.rectification: KindPolicy(
        "16", FirstStep.rectify, False, False, tells_recipients=True
    ),
    RequestKind.erasure: KindPolicy(
        "17", FirstStep.holds_then_erase, True, False, tells_recipients=True
    ),
    RequestKind.restriction: KindPolicy(
        "18", FirstStep.restrict, False, False, tells_recipients=True
    ),
    RequestKind.objection: KindPolicy(
        "21", FirstStep.holds_then_erase, True, False, tells_recipients=True
    ),
    RequestKind.withdraw_consent: KindPolicy(
        "7(3)", FirstStep.holds_then_erase, True, False, tells_recipients=True
    ),
}


def policy(kind: RequestKind | str) -> KindPolicy:
    return POLICIES[RequestKind(kind)]


ERASING_KINDS = frozenset(k for k, p in POLICIES.items() if p.erasing)
