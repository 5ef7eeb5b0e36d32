"""Which categories of a ``rest`` system may be erased together (pure, no I/O).

Items of a child category (conversations) are reached through their parent (the contact),
so erasing a parent while a child is kept would remove the child with it, or leave it
orphaned where no later request can find it. Erasure therefore refuses such a parent and
says why; the orchestrator records it as ``not_erasable`` with that reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.connectors.builtin.rest_config import RestCategory


@dataclass(frozen=True)
class Plan:
    """What erase does with one requested category."""

    action: str  # "own" (its erase request), "parent" (removed with the parent), or "keep"
    reason: str = ""


def descendants(order: Sequence[RestCategory], name: str) -> list[RestCategory]:
    children = [c for c in order if c.parent == name]
    return children + [d for c in children for d in descendants(order, c.name)]


def plan_erasure(
    order: Sequence[RestCategory], requested: Sequence[str], has_items: Mapping[str, bool]
) -> dict[str, Plan]:
    """A plan per requested category; repeated until stable, as one kept category can block
    its ancestors and the children erased with them.

    Args:
        order: every category, parents before children.
        requested: the categories to erase.
        has_items: per category (requested or not), whether the person has items in it.
    """
    by_name = {c.name: c for c in order}
    plans: dict[str, Plan] = {}
    for name in requested:
        category = by_name[name]
        if category.erase is not None:
            plans[name] = Plan("own")
        elif category.erased_with_parent and category.parent in requested:
            plans[name] = Plan("parent")
        elif category.erased_with_parent:
            plans[name] = Plan("keep", f"erased only together with {category.parent}")
        else:
            plans[name] = Plan("keep", "no erase request is configured for it")
    changed = True
    while changed:
        changed = False
        for category in order:
            plan = plans.get(category.name)
            if plan is None or plan.action == "keep":
                continue
            parent_plan = plans.get(category.parent or "")
            if plan.action == "parent" and (parent_plan is None or parent_plan.action == "keep"):
                plans[category.name] = Plan("keep", f"{category.parent} is kept")
                changed = True
                continue
            kept = [
                d.name
                for d in descendants(order, category.name)
                if has_items.get(d.name) and plans.get(d.name, Plan("keep")).action == "keep"
            ]
            if kept:
                reason = f"erasing it would remove or orphan kept data in {', '.join(kept)}"
                plans[category.name] = Plan("keep", reason)
                changed = True
    return plans
