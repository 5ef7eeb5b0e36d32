"""What each system did for a finished request, as the person reads it on the status page.

Read from the request's outcome (``planning.build_outcome``: per connector, per action, the
task's status and result). No personal data is in it: systems, actions and categories.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_GONE = {"erased", "anonymised"}
# The order the actions ran in.
_ACTIONS = ("collect", "rectify", "restrict", "erase")


@dataclass(frozen=True)
class SystemDone:
    """One system, one action: ``result`` is a word key (found, nothing_found, erased,
    kept, done, not_searched, not_possible, not_done), ``categories`` what it concerned."""

    system: str
    action: str
    result: str
    categories: tuple[str, ...] = ()


def systems(outcome: Mapping[str, Any] | None) -> list[SystemDone]:
    connectors = (outcome or {}).get("connectors", {})
    done: list[SystemDone] = []
    for name in sorted(connectors):
        actions = connectors[name].get("actions", {})
        for action in sorted(actions, key=lambda a: _ACTIONS.index(a) if a in _ACTIONS else 9):
            entry = actions[action]
            if isinstance(entry, Mapping):
                done.append(_one(name, action, entry))
    return done


def _one(system: str, action: str, entry: Mapping[str, Any]) -> SystemDone:
    if "not_searched" in entry:
        return SystemDone(system, action, "not_searched")
    if entry.get("not_possible"):
        return SystemDone(system, action, "not_possible")
    if entry.get("status") != "succeeded":
        return SystemDone(system, action, "not_done")
    categories = entry.get("categories")
    if action == "collect":
        found = (
            tuple(sorted(c for c, n in categories.items() if n))
            if isinstance(categories, Mapping)
            else ()
        )
        return SystemDone(system, action, "found" if found else "nothing_found", found)
    if action == "erase" and isinstance(categories, list):
        outcomes = [c for c in categories if isinstance(c, Mapping)]
        gone = tuple(str(c.get("category")) for c in outcomes if c.get("outcome") in _GONE)
        if gone:
            return SystemDone(system, action, "erased", gone)
        held = tuple(str(c.get("category")) for c in outcomes if c.get("outcome") == "held")
        return SystemDone(system, action, "kept" if held else "nothing_found", held)
    return SystemDone(system, action, "done")
