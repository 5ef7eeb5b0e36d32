"""GET /v1/connectors, the status view behind it, and the runtime that loads connectors."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
from innsyn_peers.elhub import ElhubPeer

from app.connectors import ConnectorConfigError, ConnectorValidationError, Health
from app.connectors.builtin.manual import ManualConfig, ManualConnector
from app.connectors.builtin.registry import RegistryConfig, RegistryConnector
from app.connectors.registry import BrokenConnector, ConnectorInstance, ConnectorRegistry
from app.connectors.status import describe, probe, render_text
from app.connectors.testing import closed_url, serve_app
from app.main import create_app
from app.runtime import Runtime
from app.settings import Settings
from tests.connectors import fake_plugins
from tests.connectors.builtin.test_manual import ARCHIVE


class Hangs(fake_plugins.Good):
    kind: ClassVar[str] = "hangs"

    async def check(self) -> Health:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


class Misconfigured(fake_plugins.Good):
    kind: ClassVar[str] = "misconfigured"

    async def check(self) -> Health:
        raise ConnectorConfigError("the password was refused")


class Crashes(fake_plugins.Good):
    kind: ClassVar[str] = "crashes"

    async def check(self) -> Health:
        raise KeyError("internal detail")


@pytest.fixture(scope="module")
def elhub_url() -> Iterator[str]:
    peer = ElhubPeer(token="t0ken-for-api-test")
    with serve_app(peer.app) as url:
        yield url


def instance(name: str, connector: Any, timeout: float = 30.0) -> ConnectorInstance:
    return ConnectorInstance(
        name=name, kind=connector.kind, connector=connector, timeout_seconds=timeout
    )


@pytest.fixture
def registry(elhub_url: str) -> ConnectorRegistry:
    config = fake_plugins.GoodConfig()
    registry = ConnectorRegistry.of(
        [
            instance("paper", ManualConnector("paper", ManualConfig.model_validate(ARCHIVE))),
            instance(
                "elhub",
                RegistryConnector(
                    "elhub",
                    RegistryConfig(base_url=elhub_url, token="t0ken-for-api-test"),  # type: ignore[arg-type]
                ),
            ),
            instance("slow", Hangs("slow", config), timeout=0.05),
            instance("crm", Misconfigured("crm", config)),
            instance("odd", Crashes("odd", config)),
        ]
    )
    registry.kinds = {"manual": ManualConnector, "registry": RegistryConnector}
    registry.broken.append(BrokenConnector("sql", "sql", "failed to import", scope="plugin"))
    return registry


async def test_health_reports_every_failure_without_raising(registry: ConnectorRegistry) -> None:
    view = await describe(registry)
    health = {c.name: c.health for c in view.connectors}

    assert health["paper"] == Health(
        ok=True, detail="manual: Locked paper archive, Oslo office (done by a person)"
    )
    assert health["elhub"] == Health(ok=True, detail="Elhub API answers")
    assert health["slow"] == Health(ok=False, detail="no answer within 0.05 s")
    assert health["crm"] == Health(ok=False, detail="configuration: the password was refused")
    assert health["odd"] == Health(ok=False, detail="check failed (KeyError)")
    await registry.aclose()


async def test_the_text_view_lists_instances_broken_plugins_and_kinds(
    registry: ConnectorRegistry,
) -> None:
    text = render_text(await describe(registry, health=False))
    rows = {line.split()[0]: line.split() for line in text.splitlines()[1:6]}
    assert rows["paper"][:3] == ["paper", "manual", "collect,erase,rectify,restrict"]
    assert rows["elhub"][1:4] == [
        "registry",
        "collect,erase,holds,rectify",
        "master_data,metering_points",
    ]
    assert "sql (plugin, kind sql): failed to import" in text
    assert "installed kinds: manual, registry" in text


async def test_probe_bounds_a_check_by_the_instance_timeout() -> None:
    slow = instance("slow", Hangs("slow", fake_plugins.GoodConfig()), timeout=0.01)
    assert (await probe(slow, timeout=60)).detail == "no answer within 0.01 s"


async def test_get_connectors_serves_the_same_as_json(
    runtime: Runtime,
    client: httpx.AsyncClient,
    staff: dict[str, dict[str, str]],
    registry: ConnectorRegistry,
) -> None:
    runtime.connectors = registry
    response = await client.get("/v1/connectors", headers=staff["auditor"])

    assert response.status_code == 200
    body = response.json()
    by_name = {c["name"]: c for c in body["connectors"]}
    elhub = by_name["elhub"]
    assert elhub["kind"] == "registry"
    assert elhub["capabilities"] == ["collect", "erase", "holds", "rectify"]
    assert elhub["health"] == {"ok": True, "detail": "Elhub API answers"}
    category = elhub["categories"][0]
    for fact in ("purpose", "legal_basis", "recipients", "retention", "source"):
        assert category[fact], fact
    assert by_name["crm"]["health"]["ok"] is False
    assert body["broken"] == [
        {"name": "sql", "kind": "sql", "scope": "plugin", "reason": "failed to import"}
    ]
    assert body["kinds"] == ["manual", "registry"]
    await registry.aclose()


async def test_health_can_be_left_out(
    runtime: Runtime, client: httpx.AsyncClient, staff: dict[str, dict[str, str]]
) -> None:
    runtime.connectors = ConnectorRegistry.of(
        [instance("slow", Hangs("slow", fake_plugins.GoodConfig()), timeout=60)]
    )
    response = await client.get("/v1/connectors?health=false", headers=staff["operator"])
    assert response.json()["connectors"][0]["health"] is None


@pytest.mark.parametrize("role", ["operator", "approver", "auditor", "admin"])
async def test_every_staff_role_may_look(
    client: httpx.AsyncClient, staff: dict[str, dict[str, str]], role: str
) -> None:
    response = await client.get("/v1/connectors?health=false", headers=staff[role])
    assert response.status_code == 200
    assert response.json() == {"connectors": [], "broken": [], "kinds": []}


async def test_others_may_not(client: httpx.AsyncClient, form_key: dict[str, str]) -> None:
    assert (await client.get("/v1/connectors")).status_code == 401
    response = await client.get("/v1/connectors", headers=form_key)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")


def connectors_file(tmp_path: Path, url: str) -> Path:
    path = tmp_path / "connectors.yaml"
    path.write_text(
        "connectors:\n"
        "  - name: elhub\n    kind: registry\n"
        f"    config: {{base_url: '{url}', token: '${{ELHUB_TOKEN}}'}}\n"
    )
    return path


async def test_the_app_builds_connectors_at_startup_and_closes_them(
    settings: Settings, tmp_path: Path, elhub_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ELHUB_TOKEN", "t0ken-for-api-test")
    configured = settings.model_copy(
        update={"connectors_file": connectors_file(tmp_path, elhub_url), "run_scheduler": False}
    )
    app = create_app(configured)
    async with app.router.lifespan_context(app):
        rt: Runtime = app.state.runtime
        elhub = rt.connectors.get("elhub")
        assert elhub is not None
        assert (await elhub.connector.check()).ok
        assert elhub.connector._client is not None  # type: ignore[attr-defined]
    assert elhub.connector._client is None, "closed on shutdown"  # type: ignore[attr-defined]


def test_strict_startup_fails_on_a_broken_instance(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ELHUB_TOKEN", raising=False)
    path = connectors_file(tmp_path, closed_url())
    lenient = Runtime.build(settings.model_copy(update={"connectors_file": path}))
    assert [b.name for b in lenient.connectors.broken if b.scope == "instance"] == ["elhub"]
    strict = settings.model_copy(update={"connectors_file": path, "connectors_strict": True})
    broken_plugins = [b.name for b in lenient.connectors.broken if b.scope == "plugin"]
    if broken_plugins:  # a broken installed plugin fails strict startup first
        with pytest.raises(ConnectorValidationError, match=broken_plugins[0]):
            Runtime.build(strict)
    else:
        with pytest.raises(ConnectorConfigError, match="ELHUB_TOKEN"):
            Runtime.build(strict)
