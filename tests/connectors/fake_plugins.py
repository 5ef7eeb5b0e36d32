"""Connector classes, good and broken, loaded through real entry points in discovery tests."""

# ruff: noqa: ARG002 - stub methods: their signatures are what is under test

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, SecretStr

from app.connectors import (
    Capability,
    CollectResult,
    DataCategory,
    ErasureResult,
    Health,
    SubjectRef,
)

CATEGORY = DataCategory(
    name="profile",
    description="d",
    purpose="p",
    legal_basis="GDPR 6(1)(b) contract",
    automated_decisions="none",
    transfers=[],
    retention="r",
)


class GoodConfig(BaseModel):
    url: str = "http://example.invalid"
    password: SecretStr | None = None
    retries: int = 1


class Good:
    kind: ClassVar[str] = "good"
    config_model: ClassVar[type[BaseModel]] = GoodConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.collect, Capability.erase}
    )
    closed = 0

    def __init__(self, name: str, config: GoodConfig) -> None:
        self.name = name
        self.config = config

    def categories(self) -> Sequence[DataCategory]:
        return [CATEGORY]

    async def check(self) -> Health:
        return Health(ok=True, detail="fine")

    async def collect(self, subject: SubjectRef) -> CollectResult:
        return CollectResult()

    async def erase(
        self, subject: SubjectRef, categories: Sequence[str], *, dry_run: bool = False
    ) -> ErasureResult:
        """Extra parameters are allowed when they have defaults."""
        return ErasureResult()

    async def aclose(self) -> None:
        type(self).closed += 1


class Other(Good):
    kind: ClassVar[str] = "other"


class WrongKind(Good):
    kind: ClassVar[str] = "something_else"


class NotPydantic(Good):
    kind: ClassVar[str] = "not_pydantic"
    config_model: ClassVar[Any] = dict


class MissingErase(Good):
    kind: ClassVar[str] = "missing_erase"
    erase = None  # type: ignore[assignment]


class RenamedParameter(Good):
    kind: ClassVar[str] = "renamed"

    async def collect(self, person: SubjectRef) -> CollectResult:  # type: ignore[override]
        return CollectResult()


class SyncCollect(Good):
    kind: ClassVar[str] = "sync_collect"

    def collect(self, subject: SubjectRef) -> CollectResult:  # type: ignore[override]
        return CollectResult()


class ExtraRequired(Good):
    kind: ClassVar[str] = "extra_required"

    async def collect(self, subject: SubjectRef, tenant: str) -> CollectResult:  # type: ignore[override]
        return CollectResult()


class UndeclaredMethod(Good):
    kind: ClassVar[str] = "undeclared"

    async def find_holds(self, subject: SubjectRef) -> list[Any]:
        return []


class RestrictWithoutDefault(Good):
    kind: ClassVar[str] = "restrict_no_default"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.collect, Capability.erase, Capability.restrict}
    )

    async def restrict(self, subject: SubjectRef, *, lift: bool) -> Any:
        return None


class FutureApi(Good):
    kind: ClassVar[str] = "future"
    api_version: ClassVar[int] = 99


class BadInit(Good):
    kind: ClassVar[str] = "bad_init"

    def __init__(self, settings: dict[str, Any]) -> None:  # type: ignore[no-untyped-def]
        self.name = "x"


class NoCapabilities(Good):
    kind: ClassVar[str] = "no_capabilities"
    capabilities: ClassVar[frozenset[Capability]] = frozenset()


class ExplodingInit(Good):
    kind: ClassVar[str] = "exploding"

    def __init__(self, name: str, config: GoodConfig) -> None:
        raise RuntimeError(f"cannot start with {config.password}")


not_a_class = object()
