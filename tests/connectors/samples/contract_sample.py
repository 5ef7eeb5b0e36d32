"""A sample connector suite run by test_contract_kit.py in a separate pytest process.

``MemoryConnector`` keeps people in a dict and declares every capability; it must pass the
whole contract. Each ``Buggy*`` variant breaks one promise, and the kit must catch it.
"""

# ruff: noqa: ARG002 - stub methods: their signatures are what is under test

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, SecretStr

from app.connectors import (
    Capability,
    CategoryChange,
    CategoryErasure,
    ChangeResult,
    CollectResult,
    ConnectorConfigError,
    DataCategory,
    ErasureOutcome,
    ErasureResult,
    Health,
    HoldFinding,
    Record,
    SubjectRef,
)
from app.connectors.testing import ConnectorContract

log = logging.getLogger("sample.connector")


class MemoryConfig(BaseModel):
    password: SecretStr
    store: dict[str, Any] = {}


def _category(name: str) -> DataCategory:
    return DataCategory(
        name=name,
        description=f"{name} rows",
        purpose="customer service",
        legal_basis="GDPR 6(1)(b) contract",
        automated_decisions="none",
        transfers=[],
        retention="3 years after the contract ends",
    )


class MemoryConnector:
    kind: ClassVar[str] = "memory"
    config_model: ClassVar[type[BaseModel]] = MemoryConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(Capability)

    def __init__(self, name: str, config: MemoryConfig) -> None:
        self.name = name
        self.config = config
        self.people: dict[str, dict[str, Any]] = config.store

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"

    def categories(self) -> Sequence[DataCategory]:
        return [_category("profile"), _category("orders")]

    def _auth(self) -> None:
        if self.config.password.get_secret_value() != "right-password":
            raise ConnectorConfigError("the system refused the password")

    def _person(self, subject: SubjectRef) -> dict[str, Any] | None:
        return next((self.people[e] for e in subject.emails if e in self.people), None)

    async def check(self) -> Health:
        self._auth()
        return Health(ok=True)

    async def collect(self, subject: SubjectRef) -> CollectResult:
        self._auth()
        person = self._person(subject)
        if person is None:
            return CollectResult()
        records = [Record(category="orders", id=o, data={"order": o}) for o in person["orders"]]
        if person["profile"] is not None:
            records.append(Record(category="profile", id=person["id"], data=person["profile"]))
        return CollectResult(records=records)

    async def erase(self, subject: SubjectRef, categories: Sequence[str]) -> ErasureResult:
        self._auth()
        person = self._person(subject)
        result = []
        for category in categories:
            count = 0
            if person is not None and category == "profile" and person["profile"] is not None:
                person["profile"], count = None, 1
            if person is not None and category == "orders":
                count, person["orders"] = len(person["orders"]), []
            outcome = ErasureOutcome.erased if count else ErasureOutcome.not_found
            result.append(CategoryErasure(category=category, outcome=outcome, count=count))
        return ErasureResult(categories=result)

    async def rectify(self, subject: SubjectRef, changes: Mapping[str, Any]) -> ChangeResult:
        person = self._person(subject)
        if person is None or person["profile"] is None:
            return ChangeResult(
                categories=[CategoryChange(category="profile", outcome="not_found")]
            )
        person["profile"].update(changes)
        change = CategoryChange(category="profile", outcome="rectified", fields=sorted(changes))
        return ChangeResult(categories=[change])

    async def restrict(self, subject: SubjectRef, *, lift: bool = False) -> ChangeResult:
        person = self._person(subject)
        if person is None:
            return ChangeResult(
                categories=[CategoryChange(category="profile", outcome="not_found")]
            )
        person["restricted"] = not lift
        outcome = "lifted" if lift else "restricted"
        return ChangeResult(categories=[CategoryChange(category="profile", outcome=outcome)])

    async def find_holds(self, subject: SubjectRef) -> list[HoldFinding]:
        person = self._person(subject)
        if person is None or not person.get("unpaid"):
            return []
        return [
            HoldFinding(basis_code="outstanding_claim", categories=["orders"], condition="paid")
        ]

    async def aclose(self) -> None:
        return None


class HoldingConnector(MemoryConnector):
    """Keeps held categories on erase, as a connector that finds holds should."""

    async def erase(self, subject: SubjectRef, categories: Sequence[str]) -> ErasureResult:
        held = {c for h in await self.find_holds(subject) for c in h.categories}
        result = await super().erase(subject, [c for c in categories if c not in held])
        result.categories += [
            CategoryErasure(category=c, outcome=ErasureOutcome.held, basis_code="outstanding_claim")
            for c in categories
            if c in held
        ]
        return result


class CollectsEveryone(HoldingConnector):
    async def collect(self, subject: SubjectRef) -> CollectResult:
        records = []
        for email in self.people:
            records += (await super().collect(SubjectRef(request_id="x", emails=[email]))).records
        return CollectResult(records=records)


class SearchesByClaims(HoldingConnector):
    """Finds people by what the form claimed, not only by what was proven."""

    def _person(self, subject: SubjectRef) -> dict[str, Any] | None:
        emails = [*subject.proven.emails, *subject.claimed.emails]
        return next((self.people[e] for e in emails if e in self.people), None)


class ErasesNothing(HoldingConnector):
    async def erase(self, subject: SubjectRef, categories: Sequence[str]) -> ErasureResult:
        return ErasureResult(
            categories=[CategoryErasure(category=c, outcome="erased", count=1) for c in categories]
        )


class ShowsPassword(HoldingConnector):
    def __repr__(self) -> str:
        return f"ShowsPassword(password={self.config.password.get_secret_value()})"


class LogsEmails(HoldingConnector):
    async def collect(self, subject: SubjectRef) -> CollectResult:
        log.warning("collecting for %s", subject.emails)
        return await super().collect(subject)


class InventsHoldCodes(HoldingConnector):
    async def find_holds(self, subject: SubjectRef) -> list[HoldFinding]:
        return [
            h.model_copy(update={"basis_code": "because"})
            for h in await super().find_holds(subject)
        ]


class CrashesOnBadConfig(HoldingConnector):
    def _auth(self) -> None:
        if self.config.password.get_secret_value() != "right-password":
            raise RuntimeError("boom")


class IgnoresHolds(MemoryConnector):
    """Erases held data: the plain MemoryConnector does not consult its own holds."""


def people() -> dict[str, dict[str, Any]]:
    return {
        "kari@example.no": {
            "id": "p1",
            "profile": {"name": "Kari", "email": "kari@example.no"},
            "orders": ["o1", "o2"],
            "unpaid": True,
        },
        "per@example.no": {
            "id": "p2",
            "profile": {"name": "Per", "email": "per@example.no"},
            "orders": ["o3"],
        },
    }


class _Base(ConnectorContract):
    kind = "memory"
    cls: ClassVar[type[MemoryConnector]] = HoldingConnector

    @pytest.fixture
    def connector(self) -> MemoryConnector:
        config = MemoryConfig(password=SecretStr("right-password"), store=people())
        return self.cls("mem", config)

    @pytest.fixture
    def broken_connector(self) -> MemoryConnector:
        return self.cls("mem", MemoryConfig(password=SecretStr("wrong-password"), store=people()))

    @pytest.fixture
    def seed_subject(self) -> SubjectRef:
        return SubjectRef(request_id="r1", emails=["kari@example.no"])

    @pytest.fixture
    def held_subject(self, seed_subject: SubjectRef) -> SubjectRef:
        return seed_subject

    @pytest.fixture
    def other_subject(self) -> SubjectRef:
        return SubjectRef(request_id="r2", emails=["per@example.no"], name="Per")

    @pytest.fixture
    def rectify_changes(self) -> dict[str, Any]:
        return {"name": "Kari N."}


class TestGood(_Base):
    cls = HoldingConnector


class TestCollectsEveryone(_Base):
    cls = CollectsEveryone


class TestSearchesByClaims(_Base):
    cls = SearchesByClaims


class TestErasesNothing(_Base):
    cls = ErasesNothing


class TestShowsPassword(_Base):
    cls = ShowsPassword


class TestLogsEmails(_Base):
    cls = LogsEmails


class TestInventsHoldCodes(_Base):
    cls = InventsHoldCodes


class TestCrashesOnBadConfig(_Base):
    cls = CrashesOnBadConfig


class TestIgnoresHolds(_Base):
    cls = IgnoresHolds
