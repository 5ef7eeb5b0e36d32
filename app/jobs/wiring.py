"""Plugs the planner and the task view into a runtime (called by ``Runtime`` itself)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.runtime import Runtime


def install(rt: Runtime) -> None:
    """Idempotent: the planner runs when a request is verified; the staff view lists tasks."""
    from app.services import planning, recipient_notices, request_views, tasks

    if planning.on_verified not in rt.on_verified:
        rt.on_verified.append(planning.on_verified)
    tasks.register_view_section()
    if recipient_notices.for_request not in request_views.VIEW_SECTIONS:
        request_views.VIEW_SECTIONS.append(recipient_notices.for_request)
