"""Outcomes that stay true across crashes (pure rules, no I/O).

An attempt can act on a system and never report it: its worker was killed, paused past its
lease, or its call was cut off at the timeout. The next attempt then finds nothing, and a
plain "not found" would tell staff, auditors and the person that there was nothing, when
this request erased it. So after an interrupted attempt, a change that finds nothing is
reported as done, by the interrupted attempt, and the outcome says an attempt was
interrupted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_DONE = {"erase": "erased", "rectify": "rectified", "restrict": "restricted"}
NOTE = (
    "an earlier attempt of this request was interrupted after it reached the system; the "
    "retry found nothing left, so that attempt did it"
)


def after_interruption(
    action: str, result: Mapping[str, Any], interrupted: int, *, lift: bool = False
) -> dict[str, Any]:
    """The task result to record, given how many earlier attempts were interrupted."""
    if interrupted <= 0:
        return dict(result)
    out = dict(result) | {"interrupted_attempts": interrupted}
    done = "lifted" if action == "restrict" and lift else _DONE.get(action)
    categories = result.get("categories")
    if done is None or not isinstance(categories, list):
        return out
    out["categories"] = [
        category | {"outcome": done, "count": None, "by_interrupted_attempt": True, "note": NOTE}
        if isinstance(category, dict) and category.get("outcome") == "not_found"
        else category
        for category in categories
    ]
    return out
