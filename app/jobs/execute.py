"""One attempt of one task: call the connector with a time limit and summarise what it did.

The summary (``result``) holds counts and outcomes per category, never personal data; the
records a collect returns travel separately (``collected``) and are sealed before storage.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from app.connectors.protocol import (
    ChangeResult,
    Collector,
    CollectResult,
    Eraser,
    ErasureResult,
    FileStream,
    HoldFinder,
    HoldFinding,
    Identifiers,
    ManualWork,
    Rectifier,
    Restrictor,
    SubjectRef,
)
from app.connectors.registry import ConnectorInstance
from app.db.models.tasks import TaskAction
from app.domain import identity
from app.domain.identity import IdentifierKind
from app.jobs.policy import Failure, classify

_T = TypeVar("_T")


@dataclass(frozen=True)
class Succeeded:
    result: dict[str, Any]
    collected: dict[str, Any] | None = None  # personal data: sealed before it is stored


@dataclass(frozen=True)
class NeedsPerson:
    instructions: str
    checklist: list[str]


@dataclass(frozen=True)
class Failed:
    failure: Failure


Outcome = Succeeded | NeedsPerson | Failed


FileSink = Callable[[FileStream], Awaitable[dict[str, Any]]]
"""Stores one file of a collected record as it streams; returns what the record keeps of it."""


class UnexpectedResult(Exception):
    """The connector returned something its protocol does not allow."""


def subject_ref(
    request_id: str, subject: Mapping[str, Any], proven: frozenset[IdentifierKind]
) -> SubjectRef:
    """What a connector may look the person up by: the proven identifiers to search with,
    the claimed ones to narrow with (``app.domain.identity``)."""
    proven_part, claimed_part = identity.split(subject, proven)
    return SubjectRef(
        request_id=request_id,
        proven=_identifiers(proven_part),
        claimed=_identifiers(claimed_part),
        name=subject.get("name"),
    )


def _identifiers(values: Mapping[str, Any]) -> Identifiers:
    return Identifiers(
        emails=[values["email"]] if values.get("email") else [],
        phones=[values["phone"]] if values.get("phone") else [],
        national_id=values.get("national_id"),
        customer_ids=dict(values.get("customer_ids") or {}),
    )


async def attempt(
    instance: ConnectorInstance,
    action: TaskAction,
    params: Mapping[str, Any],
    subject: SubjectRef,
    details: Mapping[str, Any],
    *,
    store_file: FileSink | None = None,
) -> Outcome:
    """Run the action once under the instance's timeout; every error comes back classified.
    The files of collected records then stream into ``store_file`` (without one, only their
    names are kept): a file may take as long as its size needs, but each piece must come
    within the timeout, so a stalled stream is cut off and a big one is not."""
    try:
        async with asyncio.timeout(instance.timeout_seconds):
            raw = await _call(instance, action, params, subject, details)
        if action is TaskAction.collect and isinstance(raw, CollectResult):
            return await _collected(params, raw, store_file, instance.timeout_seconds)
        if isinstance(raw, ManualWork):
            return NeedsPerson(instructions=raw.instructions, checklist=list(raw.checklist))
        return _summarise(action, params, raw)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure is classified, none is swallowed
        if isinstance(exc, UnexpectedResult):
            return Failed(Failure("internal", str(exc), retryable=False))
        return Failed(classify(exc, timeout_seconds=instance.timeout_seconds))


async def _call(
    instance: ConnectorInstance,
    action: TaskAction,
    params: Mapping[str, Any],
    subject: SubjectRef,
    details: Mapping[str, Any],
) -> Any:
    connector = instance.connector
    if action is TaskAction.collect:
        return await cast(Collector, connector).collect(subject)
    if action is TaskAction.holds:
        return await cast(HoldFinder, connector).find_holds(subject)
    if action is TaskAction.erase:
        return await cast(Eraser, connector).erase(subject, list(params.get("categories", [])))
    if action is TaskAction.rectify:
        changes = details.get("changes") or {}
        return await cast(Rectifier, connector).rectify(subject, dict(changes))
    if action is TaskAction.restrict:
        return await cast(Restrictor, connector).restrict(subject, lift=bool(params.get("lift")))
    raise UnexpectedResult(f"unknown action {action}")


def _summarise(action: TaskAction, params: Mapping[str, Any], raw: Any) -> Succeeded:
    if action is TaskAction.collect:
        raise UnexpectedResult(f"collect returned {type(raw).__name__}, not CollectResult")
    if action is TaskAction.holds:
        if not isinstance(raw, list) or not all(isinstance(f, HoldFinding) for f in raw):
            raise UnexpectedResult("find_holds returned something other than hold findings")
        return Succeeded({"findings": [f.model_dump(mode="json") for f in raw]})
    if action is TaskAction.erase:
        erased = _expect(raw, ErasureResult)
        categories = [c.model_dump(mode="json") for c in erased.categories]
        return Succeeded({"categories": categories + list(params.get("held", []))})
    changed = _expect(raw, ChangeResult)
    return Succeeded({"categories": [c.model_dump(mode="json") for c in changed.categories]})


async def _collected(
    params: Mapping[str, Any], found: CollectResult, store_file: FileSink | None, pace: float
) -> Succeeded:
    only = params.get("only_categories")
    records = [r for r in found.records if only is None or r.category in only]
    counts: dict[str, int] = {}
    for record in records:
        counts[record.category] = counts.get(record.category, 0) + 1
    result = {
        "records": len(records),
        "categories": counts,
        "external_controller": found.external_controller,
        "self_service_url": found.self_service_url,
    }
    dumped = []
    for record in records:
        one = record.model_dump(mode="json")
        if record.files:
            one["files"] = [await _file(_paced(f, pace), store_file) for f in record.files]
        dumped.append(one)
    collected = {
        "records": dumped,
        "external_controller": found.external_controller,
        "self_service_url": found.self_service_url,
    }
    return Succeeded(result, collected)


def _paced(file: FileStream, seconds: float) -> FileStream:
    """The same file, cut off when a piece does not come within ``seconds``."""

    async def pieces() -> AsyncIterator[bytes]:
        stream = aiter(file.open())
        while True:
            try:
                async with asyncio.timeout(seconds):
                    piece = await anext(stream)
            except StopAsyncIteration:
                return
            yield piece

    return file.model_copy(update={"open": pieces})


async def _file(file: FileStream, store_file: FileSink | None) -> dict[str, Any]:
    if store_file is None:
        return {"name": file.name, "media_type": file.media_type, "size": file.size}
    return await store_file(file)


def _expect(raw: Any, kind: type[_T]) -> _T:
    if not isinstance(raw, kind):
        raise UnexpectedResult(f"the connector returned {type(raw).__name__}, not {kind.__name__}")
    return raw
