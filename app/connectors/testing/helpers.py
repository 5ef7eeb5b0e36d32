"""Helpers of the contract suite: capability checks and calls that skip on manual work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar, cast

import pytest

import app.connectors.testing.checks as checks
from app.connectors.errors import ConnectorError
from app.connectors.protocol import (
    HOLD_BASIS_CODES,
    Capability,
    ChangeResult,
    Collector,
    CollectResult,
    Connector,
    Eraser,
    ErasureResult,
    HoldFinder,
    ManualWork,
    Rectifier,
    Restrictor,
    SubjectRef,
)


class ContractHelpers:
    """Shared by the standard tests; not tests themselves."""

    kind: ClassVar[str]
    _hold_codes: frozenset[str] = HOLD_BASIS_CODES

    def _require(self, connector: Connector, *capabilities: Capability) -> None:
        for capability in capabilities:
            if capability not in connector.capabilities:
                pytest.skip(f"{self.kind} does not declare Capability.{capability.value}")

    def _check_erasure(self, result: ErasureResult, requested: Sequence[str]) -> set[str]:
        return checks.check_erasure(result, requested, self._hold_codes)

    def _names(self, connector: Connector) -> list[str]:
        return [c.name for c in connector.categories()]

    async def _collect(self, connector: Connector, subject: SubjectRef) -> CollectResult:
        self._require(connector, Capability.collect)
        result = await cast(Collector, connector).collect(subject)
        if isinstance(result, ManualWork):
            checks.check_manual(result)
            pytest.skip("collect is manual work: there is no data to compare")
        assert isinstance(result, CollectResult), f"collect returned {type(result).__name__}"
        return result

    async def _maybe_snapshot(
        self, connector: Connector, subject: SubjectRef
    ) -> list[tuple[str, str, str]] | None:
        if Capability.collect not in connector.capabilities:
            return None
        result = await cast(Collector, connector).collect(subject)
        return checks.snapshot(result) if isinstance(result, CollectResult) else None

    async def _erase(
        self, connector: Connector, subject: SubjectRef, names: Sequence[str]
    ) -> ErasureResult:
        self._require(connector, Capability.erase)
        result = await cast(Eraser, connector).erase(subject, names)
        if isinstance(result, ManualWork):
            checks.check_manual(result)
            pytest.skip("erase is manual work: there is nothing to verify automatically")
        return result

    async def _first_action(self, connector: Connector, subject: SubjectRef) -> object:
        """The first declared data action, for checking how configuration errors surface."""
        caps = connector.capabilities
        if Capability.collect in caps:
            return await cast(Collector, connector).collect(subject)
        if Capability.holds in caps:
            return await cast(HoldFinder, connector).find_holds(subject)
        if Capability.erase in caps:
            return await cast(Eraser, connector).erase(subject, self._names(connector)[:1])
        if Capability.restrict in caps:
            return await cast(Restrictor, connector).restrict(subject)
        return await cast(Rectifier, connector).rectify(subject, {})

    async def _error_texts(self, connector: Connector, subject: SubjectRef) -> list[str]:
        texts: list[str] = []
        calls: list[Callable[[], Awaitable[object]]] = [
            connector.check,
            lambda: self._first_action(connector, subject),
        ]
        for call in calls:
            try:
                result = await call()
            except ConnectorError as exc:
                texts += [str(exc), repr(exc), exc.message, exc.internal_message]
            except Exception as exc:  # noqa: BLE001 - any error text may leak; the config test
                texts += [str(exc), repr(exc)]  # checks the error's type separately
            else:
                texts.append(repr(result))
        return texts

    async def _check_rectified(
        self,
        connector: Connector,
        subject: SubjectRef,
        result: ChangeResult,
        changes: Mapping[str, Any],
    ) -> None:
        """Fields a category reports rectified must show the new value when collected."""
        rectified = {c.category for c in result.categories if c.outcome == "rectified"}
        snapshot = await self._maybe_snapshot(connector, subject)
        if snapshot is None or not rectified:
            return
        collected = await cast(Collector, connector).collect(subject)
        assert isinstance(collected, CollectResult)
        for record in collected.records:
            if record.category not in rectified:
                continue
            for field, value in changes.items():
                if field in record.data:
                    assert record.data[field] == value, f"{record.category}.{field} not rectified"
