"""Connector instances from one configuration file (YAML or TOML), with secrets from the
environment.

The file lists instances, each with a ``name``, a ``kind`` (an entry point of the group
``innsyn.connectors``), a ``config`` block validated by that kind's ``config_model``, and the
orchestration options ``concurrency``, ``timeout_seconds`` and ``max_attempts``. A string
``${VAR}`` anywhere in an instance is replaced by the environment variable ``VAR``
(``$${`` writes a literal ``${``); a missing variable is an error that names the variable,
never a value. Error messages never echo configuration values, which may be secrets.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import structlog
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.connectors.discovery import Discovery, discover
from app.connectors.errors import ConnectorConfigError, ConnectorError
from app.connectors.protocol import Connector, DataCategory
from app.connectors.registry import BrokenConnector, ConnectorInstance, ConnectorRegistry

log = structlog.get_logger(__name__)

_VAR = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ConnectorsFileError(ConnectorConfigError):
    """The connectors file cannot be used (unreadable, malformed, or, in strict mode, an
    instance that cannot be built)."""


IdentityKindName = Literal["email", "phone", "national_id", "customer_ids"]


class InstanceSpec(BaseModel):
    """One entry of the connectors file."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    kind: str = Field(min_length=1)
    config: dict[str, Any] = Field(default_factory=dict)
    concurrency: int = Field(default=8, ge=1, le=1024)
    timeout_seconds: float = Field(default=30.0, gt=0, le=3600)
    max_attempts: int = Field(default=5, ge=1, le=100)
    identity: list[IdentityKindName] | Literal["any"] | None = Field(
        default=None,
        description="The proof this system needs before it is searched: one of these "
        "identifiers must be proven (e.g. national_id: only an ID token or staff prove it). "
        "'any' needs only a verified request; default: what the connector kind asks for.",
    )

    @field_validator("identity", mode="before")
    @classmethod
    def _one_kind(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) and value != "any" else value


def read_file(path: Path) -> list[dict[str, Any]]:
    """The raw instance mappings of a connectors file: ``connectors: [...]``.

    Raises:
        ConnectorsFileError: unreadable, not YAML/TOML, or not the expected shape.
    """
    return read_section(path, "connectors", what="instances")


def read_section(path: Path, key: str, *, what: str) -> list[dict[str, Any]]:
    """One top-level list of mappings of the connectors file (``connectors``, ``recipients``).

    Raises:
        ConnectorsFileError: unreadable, not YAML/TOML, or not the expected shape.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConnectorsFileError(
            f"cannot read the connectors file {path}: {exc.strerror}"
        ) from None
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            document: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConnectorsFileError(f"{path} is not valid TOML: {exc}") from None
    elif suffix in (".yaml", ".yml"):
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise ConnectorsFileError(f"{path} is not valid YAML{where}") from None
    else:
        raise ConnectorsFileError(f"{path}: the connectors file must end in .yaml, .yml or .toml")
    if document is None:
        return []
    entries = document.get(key, []) if isinstance(document, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ConnectorsFileError(f"{path}: expected a list of {what} under `{key}`")
    return entries


def expand_env(value: Any, environ: Mapping[str, str], *, where: str) -> Any:
    """Replace ``${VAR}`` in every string of ``value`` (recursively) from ``environ``."""
    if isinstance(value, str):

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name is None:
                return "${"
            if name not in environ:
                raise ConnectorsFileError(f"{where}: environment variable {name} is not set")
            return environ[name]

        return _VAR.sub(substitute, value)
    if isinstance(value, dict):
        return {k: expand_env(v, environ, where=where) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_env(v, environ, where=where) for v in value]
    return value


def describe_validation_error(exc: ValidationError) -> str:
    """Field paths and messages only: pydantic's own text echoes inputs (maybe secrets)."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = ".".join(str(p) for p in error["loc"]) or "(root)"
        parts.append(f"{loc}: {error['msg']}")
    return "; ".join(parts)


def unknown_keys(model: type[BaseModel], given: Mapping[str, Any]) -> list[str]:
    """Top-level config keys the model does not read: a typo is an error, not a silent default."""
    if model.model_config.get("extra") == "allow":
        return []
    keys: set[str] = set()
    for name, info in model.model_fields.items():
        keys.add(name)
        keys.update(a for a in (info.alias, info.validation_alias) if isinstance(a, str))
    return sorted(set(given) - keys)


def build_instance(
    raw: Mapping[str, Any], discovery: Discovery, environ: Mapping[str, str]
) -> ConnectorInstance:
    """Validate one raw entry and build a new connector object for it.

    Raises:
        ConnectorsFileError: naming the instance and what is wrong with it.
    """
    label = f"connector {raw.get('name')!r}" if isinstance(raw.get("name"), str) else "connector"
    expanded = expand_env(dict(raw), environ, where=label)
    try:
        spec = InstanceSpec.model_validate(expanded)
    except ValidationError as exc:
        raise ConnectorsFileError(f"{label}: {describe_validation_error(exc)}") from None
    found = discovery.kinds.get(spec.kind)
    if found is None:
        broken = next((b for b in discovery.broken if b.kind == spec.kind), None)
        why = f"its plugin is broken: {broken.reason}" if broken else "no such connector installed"
        raise ConnectorsFileError(f"{label}: kind {spec.kind!r}: {why}")
    model = found.cls.config_model
    unknown = unknown_keys(model, spec.config)
    if unknown:
        raise ConnectorsFileError(f"{label}: config: unknown keys {', '.join(unknown)}")
    try:
        config = model.model_validate(spec.config)
    except ValidationError as exc:
        raise ConnectorsFileError(f"{label}: config: {describe_validation_error(exc)}") from None
    connector = _construct(found.cls, spec.name, config, label)
    return ConnectorInstance(
        required_identity=_required_identity(spec, found.cls),
        name=spec.name,
        kind=spec.kind,
        connector=connector,
        concurrency=spec.concurrency,
        timeout_seconds=spec.timeout_seconds,
        max_attempts=spec.max_attempts,
    )


def _required_identity(spec: InstanceSpec, cls: type[Connector]) -> frozenset[str]:
    if spec.identity == "any":
        return frozenset()
    if spec.identity is not None:
        return frozenset(spec.identity)
    return frozenset(getattr(cls, "required_identity", frozenset()))


def _construct(cls: type[Connector], name: str, config: BaseModel, label: str) -> Connector:
    try:
        connector = cls(name=name, config=config)  # type: ignore[call-arg]  # loader convention
    except ConnectorError as exc:
        raise ConnectorsFileError(f"{label}: {exc.message}") from None
    except Exception as exc:  # noqa: BLE001 - a plugin's constructor may raise anything
        # Reported by type only, without the chained cause: its text may echo config values.
        reason = f"the connector failed to start ({type(exc).__name__})"
        raise ConnectorsFileError(f"{label}: {reason}") from None
    categories = list(connector.categories())
    names = [c.name for c in categories]
    if not categories or not all(isinstance(c, DataCategory) for c in categories):
        raise ConnectorsFileError(f"{label}: categories() must return DataCategory objects")
    if len(set(names)) != len(names):
        raise ConnectorsFileError(f"{label}: category names repeat: {names}")
    return connector


def load_registry(
    path: Path | None,
    *,
    strict: bool = False,
    discovery: Discovery | None = None,
    environ: Mapping[str, str] | None = None,
) -> ConnectorRegistry:
    """Discover connector kinds and build every configured instance.

    Args:
        path: the connectors file; None configures no instances (kinds are still listed).
        strict: fail on any broken plugin or instance instead of listing it as broken.
        discovery: already discovered kinds (default: the installed entry points).
        environ: where ``${VAR}`` comes from (default: ``os.environ``).

    Raises:
        ConnectorsFileError: the file is unusable, or (strict) an instance is broken.
        ConnectorValidationError: (strict) an installed plugin is broken.
    """
    found = discovery if discovery is not None else discover(strict=strict)
    registry = ConnectorRegistry(kinds={k: v.cls for k, v in found.kinds.items()})
    registry.broken.extend(found.broken)
    entries = read_file(path) if path is not None else []
    names = [e.get("name") for e in entries]
    repeated = sorted({str(n) for n in names if names.count(n) > 1})
    if repeated:
        raise ConnectorsFileError(f"{path}: instance names repeat: {', '.join(repeated)}")
    env = os.environ if environ is None else environ
    for raw in entries:
        try:
            registry.add(build_instance(raw, found, env))
        except ConnectorsFileError as exc:
            if strict:
                raise
            name, kind = str(raw.get("name", "?")), str(raw.get("kind", "?"))
            registry.broken.append(BrokenConnector(name, kind, exc.message, scope="instance"))
            log.error("connector_instance_broken", connector=name, kind=kind, reason=exc.message)
    for broken in found.broken:
        log.error("connector_plugin_broken", plugin=broken.name, reason=broken.reason)
    return registry
