"""Finding connector classes through the ``innsyn.connectors`` entry-point group.

Built-in and third-party connectors are found the same way. Each class is validated when it
is loaded, like pluggy validates hook implementations: a plugin that fails is reported by
name and reason (``Discovery.broken``), never silently skipped, and in strict mode loading
fails instead.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, cast

from pydantic import BaseModel

from app.connectors.errors import ConnectorValidationError
from app.connectors.protocol import (
    API_VERSION,
    CAPABILITY_METHODS,
    SUPPORTED_API_VERSIONS,
    Capability,
    Collector,
    Connector,
    Eraser,
    HoldFinder,
    Rectifier,
    Restrictor,
)
from app.connectors.registry import BrokenConnector

ENTRY_POINT_GROUP = "innsyn.connectors"

_SPECS: dict[Capability, Callable[..., Any]] = {
    Capability.collect: Collector.collect,
    Capability.erase: Eraser.erase,
    Capability.rectify: Rectifier.rectify,
    Capability.restrict: Restrictor.restrict,
    Capability.holds: HoldFinder.find_holds,
}


@dataclass(frozen=True)
class ConnectorKind:
    """A validated connector class and where it came from."""

    kind: str
    cls: type[Connector]
    source: str


@dataclass
class Discovery:
    """The outcome of loading every entry point of the group."""

    kinds: dict[str, ConnectorKind] = field(default_factory=dict)
    broken: list[BrokenConnector] = field(default_factory=list)


def validate_connector_class(obj: object, *, name: str) -> type[Connector]:
    """Check that ``obj`` is a connector class registered as ``name``; raise if not.

    Args:
        obj: what the entry point (or a test) loaded.
        name: the entry-point name, which must equal the class's ``kind``.

    Returns:
        ``obj``, typed as a connector class.

    Raises:
        ConnectorValidationError: naming the plugin and the first problem found.
    """
    problems = _class_problems(obj, name)
    if problems:
        raise ConnectorValidationError(name, "; ".join(problems))
    return cast(type[Connector], obj)


def _class_problems(obj: object, name: str) -> list[str]:
    if not isinstance(obj, type):
        return [f"the entry point names {type(obj).__name__} {obj!r}, not a class"]
    problems: list[str] = []
    kind = getattr(obj, "kind", None)
    if not isinstance(kind, str):
        problems.append("class attribute `kind` (str) is missing")
    elif kind != name:
        problems.append(f"kind {kind!r} differs from the entry-point name {name!r}")
    config_model = getattr(obj, "config_model", None)
    if not (isinstance(config_model, type) and issubclass(config_model, BaseModel)):
        problems.append("class attribute `config_model` must be a pydantic BaseModel subclass")
    version = getattr(obj, "api_version", API_VERSION)
    if version not in SUPPORTED_API_VERSIONS:
        supported = ", ".join(str(v) for v in sorted(SUPPORTED_API_VERSIONS))
        problems.append(f"api_version {version!r} is not supported (supported: {supported})")
    problems += _init_problems(obj)
    problems += _method_problems(obj)
    return problems


def _init_problems(cls: type) -> list[str]:
    try:
        inspect.signature(cls).bind(name="instance", config=None)
    except TypeError:
        return ["__init__ must accept (name, config): the loader calls cls(name=..., config=...)"]
    except ValueError:  # builtins without a signature: nothing to check
        return []
    return []


def _method_problems(cls: type) -> list[str]:
    problems: list[str] = []
    capabilities = getattr(cls, "capabilities", None)
    if not isinstance(capabilities, frozenset) or not capabilities:
        return ["class attribute `capabilities` must be a non-empty frozenset of Capability"]
    unknown = [c for c in capabilities if not isinstance(c, Capability)]
    if unknown:
        problems.append(f"capabilities {unknown!r} are not Capability members")
    if not callable(getattr(cls, "categories", None)):
        problems.append("method categories() is missing")
    for method in ("check", "aclose"):
        if not inspect.iscoroutinefunction(getattr(cls, method, None)):
            problems.append(f"async method {method}() is missing")
    for capability, method in CAPABILITY_METHODS.items():
        declared = capability in capabilities
        impl = getattr(cls, method, None)
        if declared:
            problems += _signature_problems(method, impl, _SPECS[capability])
        elif impl is not None:
            problems.append(
                f"defines {method}() but does not declare Capability.{capability.value}: "
                "declare it, or remove the method"
            )
    return problems


def _signature_problems(method: str, impl: object, spec: Callable[..., Any]) -> list[str]:
    """The implementation must accept every call the orchestrator makes through the spec."""
    if impl is None:
        return [f"declares the capability but has no method {method}()"]
    if not inspect.iscoroutinefunction(impl):
        return [f"{method}() must be `async def`"]
    want = list(inspect.signature(spec).parameters.values())[1:]
    got = list(inspect.signature(cast(Callable[..., Any], impl)).parameters.values())[1:]
    shown = f"{method}{inspect.signature(cast(Callable[..., Any], impl))}"
    expected = f"{method}{inspect.signature(spec)}"
    mismatch = f"{shown} does not match the protocol {expected}"
    got_by_name = {p.name: p for p in got}
    for position, param in enumerate(want):
        have = got_by_name.get(param.name)
        if have is None or have.kind != param.kind:
            return [mismatch]
        if param.kind is param.POSITIONAL_OR_KEYWORD and got.index(have) != position:
            return [mismatch]
        if param.default is not param.empty and have.default is param.empty:
            return [f"{mismatch}: `{param.name}` needs a default"]
    wanted = {p.name for p in want}
    extra = [
        p for p in got if p.name not in wanted and p.default is p.empty and p.kind not in _VARIADIC
    ]
    if extra:
        return [f"{mismatch}: extra required parameter `{extra[0].name}`"]
    return []


_VARIADIC = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)


def discover(*, strict: bool = False, points: Iterable[EntryPoint] | None = None) -> Discovery:
    """Load and validate every connector entry point.

    Args:
        strict: raise on the first broken plugin instead of listing it.
        points: entry points to load (default: the installed ``innsyn.connectors`` group).

    Raises:
        ConnectorValidationError: in strict mode, for the first broken plugin.
    """
    found = list(entry_points(group=ENTRY_POINT_GROUP) if points is None else points)
    result = Discovery()
    by_name: dict[str, list[EntryPoint]] = {}
    for point in found:
        by_name.setdefault(point.name, []).append(point)
    for name, group in sorted(by_name.items()):
        try:
            result.kinds[name] = _load_one(name, group)
        except ConnectorValidationError as exc:
            if strict:
                raise
            result.broken.append(BrokenConnector(name, name, exc.reason, scope="plugin"))
    return result


def _load_one(name: str, points: list[EntryPoint]) -> ConnectorKind:
    sources = sorted({_source(p) for p in points})
    if len(sources) > 1:
        raise ConnectorValidationError(
            name, f"the kind is registered more than once: {', '.join(sources)}"
        )
    point = points[0]
    try:
        obj = point.load()
    except Exception as exc:  # a plugin's import may raise anything: it is reported, with cause
        raise ConnectorValidationError(
            name, f"{_source(point)} failed to import: {type(exc).__name__}: {exc}"
        ) from exc
    try:
        cls = validate_connector_class(obj, name=name)
    except ConnectorValidationError as exc:
        raise ConnectorValidationError(name, f"{_source(point)}: {exc.reason}") from None
    return ConnectorKind(kind=name, cls=cls, source=_source(point))


def _source(point: EntryPoint) -> str:
    dist = getattr(point, "dist", None)
    where = f"{dist.name} {dist.version}" if dist is not None else "unpackaged"
    return f"{point.value} ({where})"
