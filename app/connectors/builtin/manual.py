"""The ``manual`` connector: a system with no API (a locked paper archive, a USB drive).

Every action returns ``ManualWork``: instructions and a checklist from the configuration,
for a person to carry out and tick off (``POST /v1/requests/{id}/tasks/{task_id}/complete``).
The instructions name the request, never the person: staff look the person up in the request,
so no personal data is copied into tasks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from app.connectors.protocol import (
    API_VERSION,
    Capability,
    DataCategory,
    Health,
    ManualWork,
    SubjectRef,
)

_VERBS = {
    Capability.collect: "Find and copy all data about the person",
    Capability.erase: "Destroy the person's data in the categories listed",
    Capability.rectify: "Correct the person's data as the request asks",
    Capability.restrict: "Mark the person's data as restricted (storage only)",
}


class ManualAction(BaseModel):
    """What a person must do for one action."""

    instructions: str = Field(min_length=1)
    checklist: list[str] = Field(min_length=1)


class ManualConfig(BaseModel):
    """The system, the categories it holds, and the work per action."""

    system: str = Field(min_length=1, description="e.g. 'Paper archive, Oslo office'")
    categories: list[DataCategory] = Field(min_length=1)
    instructions: str = Field(min_length=1, description="Where and how to find the data.")
    checklist: list[str] = Field(min_length=1, description="Steps to confirm, for every action.")
    actions: dict[Capability, ManualAction] = Field(
        default_factory=dict, description="Per action: instructions and checklist instead."
    )


class ManualConnector:
    """Turns every action into a checklist for a person."""

    kind: ClassVar[str] = "manual"
    api_version: ClassVar[int] = API_VERSION
    config_model: ClassVar[type[BaseModel]] = ManualConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(_VERBS)

    def __init__(self, name: str, config: ManualConfig) -> None:
        self.name = name
        self.config = config

    def __repr__(self) -> str:
        return f"ManualConnector(name={self.name!r}, system={self.config.system!r})"

    def categories(self) -> Sequence[DataCategory]:
        return list(self.config.categories)

    async def check(self) -> Health:
        return Health(ok=True, detail=f"manual: {self.config.system} (done by a person)")

    async def collect(self, subject: SubjectRef) -> ManualWork:
        return self._work(Capability.collect, subject)

    async def erase(self, subject: SubjectRef, categories: Sequence[str]) -> ManualWork:
        return self._work(Capability.erase, subject, f"Categories: {', '.join(categories)}.")

    async def rectify(self, subject: SubjectRef, changes: Mapping[str, Any]) -> ManualWork:
        fields = ", ".join(sorted(changes)) or "see the request"
        return self._work(Capability.rectify, subject, f"Fields to correct: {fields}.")

    async def restrict(self, subject: SubjectRef, *, lift: bool = False) -> ManualWork:
        note = "Lift the restriction instead: the data may be used again." if lift else ""
        return self._work(Capability.restrict, subject, note)

    async def aclose(self) -> None:
        return None

    def _work(self, action: Capability, subject: SubjectRef, note: str = "") -> ManualWork:
        specific = self.config.actions.get(action)
        text = specific.instructions if specific else self.config.instructions
        checklist = specific.checklist if specific else self.config.checklist
        header = f"{_VERBS[action]} in {self.config.system}, for request {subject.request_id}."
        body = " ".join(part for part in (header, text, note) if part)
        return ManualWork(instructions=body, checklist=list(checklist))
