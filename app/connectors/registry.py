"""The configured connector instances of one process, and how to reach them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import structlog

from app.connectors.protocol import Capability, Connector

log = structlog.get_logger(__name__)


@dataclass
class ConnectorInstance:
    """One configured system: its connector object plus how the orchestrator may call it."""

    name: str
    kind: str
    connector: Connector
    concurrency: int = 8
    timeout_seconds: float = 30.0
    max_attempts: int = 5
    # One of these identifiers must be proven before the system is searched (step-up).
    required_identity: frozenset[str] = frozenset()

    @property
    def capabilities(self) -> frozenset[Capability]:
        return self.connector.capabilities


@dataclass(frozen=True)
class BrokenConnector:
    """A configured instance (or plugin) that could not be loaded, with the reason."""

    name: str
    kind: str
    reason: str
    scope: Literal["plugin", "instance"] = "instance"
    """``plugin``: an installed connector class fails validation; ``instance``: a configured
    instance cannot be built (unknown or broken kind, invalid config, missing variable)."""


@dataclass
class ConnectorRegistry:
    """Explicit, injectable registry (lives on the runtime, never a module global)."""

    instances: dict[str, ConnectorInstance] = field(default_factory=dict)
    broken: list[BrokenConnector] = field(default_factory=list)
    kinds: dict[str, type[Connector]] = field(default_factory=dict)
    """Every valid installed connector class by kind (configured or not)."""

    @classmethod
    def of(cls, instances: Iterable[ConnectorInstance]) -> ConnectorRegistry:
        registry = cls()
        for instance in instances:
            registry.add(instance)
        return registry

    def add(self, instance: ConnectorInstance) -> None:
        if instance.name in self.instances:
            raise ValueError(f"two connector instances are named {instance.name!r}")
        self.instances[instance.name] = instance

    def get(self, name: str) -> ConnectorInstance | None:
        return self.instances.get(name)

    def active(self) -> list[ConnectorInstance]:
        return list(self.instances.values())

    async def aclose(self) -> None:
        """Close every instance; one failing to close does not keep the others open."""
        for instance in self.instances.values():
            try:
                await instance.connector.aclose()
            except Exception as exc:  # noqa: BLE001 - shutdown must reach every connector
                log.warning(
                    "connector_close_failed", connector=instance.name, error=type(exc).__name__
                )
