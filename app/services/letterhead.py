"""Who signs the letters: the controller's name, contact and DPO, from the settings."""

from __future__ import annotations

from app.domain.letters import Controller
from app.runtime import Runtime


def controller(rt: Runtime) -> Controller:
    """Without ``INNSYN_CONTROLLER_CONTACT`` the person is told to answer the sender address."""
    settings = rt.settings
    return Controller(
        name=settings.controller_name,
        contact=settings.controller_contact or settings.mail_from,
        dpo=settings.dpo_contact,
    )


def status_url(rt: Runtime, request_id: str, token: str) -> str:
    """The person's status page: status, withdrawal and the answer when it is ready."""
    return f"{rt.settings.public_base_url}/personvern/requests/{request_id}?token={token}"
