"""Small in-memory systems that implement the connector protocol, for the fan-out tests.

Each keeps the person's data per e-mail address and records every call, so tests can check
what was collected, erased or changed, how often, and how many calls ran at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel

from app.connectors.errors import (
    ConnectorConfigError,
    ConnectorPermanentError,
    ConnectorTransientError,
)
from app.connectors.protocol import (
    Capability,
    CategoryChange,
    CategoryErasure,
    ChangeResult,
    CollectResult,
    DataCategory,
    ErasureOutcome,
    ErasureResult,
    Health,
    HoldFinding,
    ManualWork,
    Record,
    SubjectRef,
)
from app.connectors.registry import ConnectorInstance, ConnectorRegistry

ALL = frozenset(Capability)


class NoConfig(BaseModel):
    pass


def category(name: str, **facts: Any) -> DataCategory:
    defaults = {
        "description": f"{name} data",
        "purpose": "customer service",
        "legal_basis": "GDPR 6(1)(b) contract",
        "automated_decisions": "none",
        "transfers": [],
        "retention": "while a customer",
    }
    return DataCategory(name=name, **(defaults | facts))


@dataclass
class Calls:
    """What happened to one system: per action, the number of calls, and the peak overlap."""

    counts: dict[str, int] = field(default_factory=dict)
    running: int = 0
    peak: int = 0

    def enter(self, action: str) -> None:
        self.counts[action] = self.counts.get(action, 0) + 1
        self.running += 1
        self.peak = max(self.peak, self.running)

    def leave(self) -> None:
        self.running -= 1


class MemorySystem:
    """A system holding people's data in memory; erase/rectify/restrict are idempotent."""

    kind: ClassVar[str] = "memory"
    config_model: ClassVar[type[BaseModel]] = NoConfig
    capabilities: ClassVar[frozenset[Capability]] = ALL

    def __init__(
        self,
        name: str,
        *,
        categories: Sequence[DataCategory] = (category("contact"),),
        capabilities: frozenset[Capability] | None = None,
        holds: Sequence[HoldFinding] = (),
        delay: float = 0.0,
    ) -> None:
        self.name = name
        self._categories = list(categories)
        if capabilities is not None:
            self.capabilities = capabilities  # type: ignore[misc]
        self.holds = list(holds)
        self.delay = delay
        self.data: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.restricted: set[str] = set()
        self.calls = Calls()
        self.gate: asyncio.Event | None = None  # when set up, calls wait for it

    def seed(self, email: str, cat: str, *rows: dict[str, Any]) -> None:
        self.data.setdefault(email, {}).setdefault(cat, []).extend(rows)

    def categories(self) -> Sequence[DataCategory]:
        return self._categories

    async def check(self) -> Health:
        return Health(ok=True)

    async def aclose(self) -> None:
        return None

    async def _enter(self, action: str) -> None:
        self.calls.enter(action)
        try:
            await self.before()
            if self.gate is not None:
                await self.gate.wait()
            if self.delay:
                await asyncio.sleep(self.delay)
        except BaseException:
            self.calls.leave()
            raise

    async def before(self) -> None:
        """Hook for subclasses that fail or hand work to a person."""

    def _mine(self, subject: SubjectRef) -> dict[str, list[dict[str, Any]]]:
        return self.data.get(subject.emails[0], {}) if subject.emails else {}

    async def collect(self, subject: SubjectRef) -> CollectResult | ManualWork:
        await self._enter("collect")
        try:
            records = [
                Record(category=cat, id=str(i), data=row)
                for cat, rows in self._mine(subject).items()
                for i, row in enumerate(rows)
            ]
            return CollectResult(records=records)
        finally:
            self.calls.leave()

    async def erase(
        self, subject: SubjectRef, categories: Sequence[str]
    ) -> ErasureResult | ManualWork:
        await self._enter("erase")
        try:
            mine = self._mine(subject)
            out = []
            for cat in categories:
                rows = mine.pop(cat, [])
                outcome = ErasureOutcome.erased if rows else ErasureOutcome.not_found
                out.append(CategoryErasure(category=cat, outcome=outcome, count=len(rows)))
            return ErasureResult(categories=out)
        finally:
            self.calls.leave()

    async def rectify(
        self, subject: SubjectRef, changes: Mapping[str, Any]
    ) -> ChangeResult | ManualWork:
        await self._enter("rectify")
        try:
            count = 0
            for rows in self._mine(subject).values():
                for row in rows:
                    for key, value in changes.items():
                        if key in row:
                            row[key] = value
                            count += 1
            outcome = "rectified" if count else "not_found"
            change = CategoryChange(
                category="contact", outcome=outcome, count=count, fields=sorted(changes)
            )
            return ChangeResult(categories=[change])
        finally:
            self.calls.leave()

    async def restrict(
        self, subject: SubjectRef, *, lift: bool = False
    ) -> ChangeResult | ManualWork:
        await self._enter("restrict")
        try:
            email = subject.emails[0]
            if lift:
                self.restricted.discard(email)
            else:
                self.restricted.add(email)
            outcome = "lifted" if lift else "restricted"
            count = 1 if email in self.data else 0
            change = CategoryChange(category="contact", outcome=outcome, count=count)
            return ChangeResult(categories=[change])
        finally:
            self.calls.leave()

    async def find_holds(self, subject: SubjectRef) -> list[HoldFinding]:
        await self._enter("holds")
        try:
            return list(self.holds) if self._mine(subject) else []
        finally:
            self.calls.leave()


class Flaky(MemorySystem):
    """Fails the first ``failures`` calls with a transient error, then works."""

    def __init__(self, name: str, *, failures: int, retry_after: float | None = None, **kw: Any):
        super().__init__(name, **kw)
        self.failures = failures
        self.retry_after = retry_after

    async def before(self) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectorTransientError("the CRM answered 503", retry_after=self.retry_after)


class Broken(MemorySystem):
    """Always fails, with the given error kind (until ``error`` is set to ``"none"``)."""

    def __init__(self, name: str, *, error: str = "transient", **kw: Any) -> None:
        super().__init__(name, **kw)
        self.error = error

    async def before(self) -> None:
        if self.error == "none":
            return
        if self.error == "transient":
            raise ConnectorTransientError("the billing system answered 502")
        if self.error == "config":
            raise ConnectorConfigError("the billing system refused the credentials (HTTP 401)")
        if self.error == "permanent":
            raise ConnectorPermanentError("the billing system refused the request (HTTP 400)")
        raise RuntimeError("ola.nordmann@example.no not found")  # text with personal data


class PaperArchive(MemorySystem):
    """A person must search the archive: every action is handed over as a checklist."""

    CHECKLIST: ClassVar[list[str]] = ["searched the archive room", "shredded or copied the file"]

    async def before(self) -> None:
        raise _Manual

    async def collect(self, subject: SubjectRef) -> CollectResult | ManualWork:
        return await self._manual(super().collect(subject))

    async def erase(
        self, subject: SubjectRef, categories: Sequence[str]
    ) -> ErasureResult | ManualWork:
        return await self._manual(super().erase(subject, categories))

    async def _manual(self, call: Any) -> Any:
        try:
            return await call
        except _Manual:
            return ManualWork(instructions="Search the paper archive", checklist=self.CHECKLIST)


class _Manual(Exception):
    pass


def instance(system: MemorySystem, **options: Any) -> ConnectorInstance:
    return ConnectorInstance(
        name=system.name,
        kind=system.kind,
        connector=system,
        **options,  # type: ignore[arg-type]
    )


def registry(*systems: MemorySystem, **options: Any) -> ConnectorRegistry:
    return ConnectorRegistry.of(instance(s, **options) for s in systems)
