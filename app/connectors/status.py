"""What ``innsyn connectors list|check`` prints and ``GET /v1/connectors`` serves.

Health comes from each connector's ``check()``, run concurrently, each bounded by a timeout,
so one hanging system cannot stall the answer. Failures become ``ok: false`` with a message
that is safe to show (the connector error's ``message``), never an exception.
"""

from __future__ import annotations

import asyncio
from typing import Literal

import structlog
from pydantic import BaseModel, Field

from app.connectors.errors import ConnectorError
from app.connectors.protocol import Capability, DataCategory, Health
from app.connectors.registry import ConnectorInstance, ConnectorRegistry

log = structlog.get_logger(__name__)

DEFAULT_CHECK_TIMEOUT = 10.0


class ConnectorView(BaseModel):
    """One configured instance."""

    name: str
    kind: str
    capabilities: list[Capability]
    categories: list[DataCategory]
    concurrency: int
    timeout_seconds: float
    max_attempts: int
    health: Health | None = Field(default=None, description="Absent when not checked.")


class BrokenView(BaseModel):
    """A plugin that fails validation, or an instance that cannot be built."""

    name: str
    kind: str
    scope: Literal["plugin", "instance"]
    reason: str


class ConnectorsView(BaseModel):
    connectors: list[ConnectorView]
    broken: list[BrokenView]
    kinds: list[str] = Field(description="Connector kinds installed and valid.")


async def probe(instance: ConnectorInstance, *, timeout: float) -> Health:
    """``check()`` with a time limit; every failure is reported, none is raised."""
    limit = min(instance.timeout_seconds, timeout)
    try:
        return await asyncio.wait_for(instance.connector.check(), timeout=limit)
    except TimeoutError:
        return Health(ok=False, detail=f"no answer within {limit:g} s")
    except ConnectorError as exc:
        return Health(ok=False, detail=f"{exc.kind}: {exc.message}")
    except Exception as exc:  # noqa: BLE001 - a plugin's check may raise anything; report it
        log.warning("connector_check_crashed", connector=instance.name, error=type(exc).__name__)
        return Health(ok=False, detail=f"check failed ({type(exc).__name__})")


async def describe(
    registry: ConnectorRegistry, *, health: bool = True, timeout: float = DEFAULT_CHECK_TIMEOUT
) -> ConnectorsView:
    """The registry as a view, with health when asked (checks run concurrently)."""
    instances = registry.active()
    checks: list[Health | None] = [None] * len(instances)
    if health:
        checks = list(await asyncio.gather(*(probe(i, timeout=timeout) for i in instances)))
    return ConnectorsView(
        connectors=[
            ConnectorView(
                name=i.name,
                kind=i.kind,
                capabilities=sorted(i.capabilities),
                categories=list(i.connector.categories()),
                concurrency=i.concurrency,
                timeout_seconds=i.timeout_seconds,
                max_attempts=i.max_attempts,
                health=h,
            )
            for i, h in zip(instances, checks, strict=True)
        ],
        broken=[
            BrokenView(name=b.name, kind=b.kind, scope=b.scope, reason=b.reason)
            for b in registry.broken
        ],
        kinds=sorted(registry.kinds),
    )


def render_text(view: ConnectorsView) -> str:
    """A plain-text table for the terminal."""
    rows = [("INSTANCE", "KIND", "CAPABILITIES", "CATEGORIES", "HEALTH")]
    for c in view.connectors:
        health = "-" if c.health is None else ("ok" if c.health.ok else "FAILING")
        if c.health is not None and c.health.detail:
            health += f": {c.health.detail}"
        rows.append(
            (
                c.name,
                c.kind,
                ",".join(c.capabilities),
                ",".join(cat.name for cat in c.categories),
                health,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) + "  " + row[4]
        for row in rows
    ]
    if not view.connectors:
        lines.append("(no connector instances configured: set INNSYN_CONNECTORS_FILE)")
    if view.broken:
        lines += ["", "BROKEN"]
        lines += [f"  {b.name} ({b.scope}, kind {b.kind}): {b.reason}" for b in view.broken]
    lines += ["", "installed kinds: " + (", ".join(view.kinds) or "(none)")]
    return "\n".join(line.rstrip() for line in lines)


def failing(view: ConnectorsView) -> bool:
    """Anything an operator must fix: a broken plugin or instance, or a failing check."""
    return bool(view.broken) or any(c.health and not c.health.ok for c in view.connectors)
