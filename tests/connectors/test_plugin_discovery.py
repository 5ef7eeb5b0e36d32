"""A third-party connector, installed as its own distribution, is found and used like a
built-in one (examples/innsyn-connector-newsletter, installed by scripts/bootstrap.sh)."""

from __future__ import annotations

import json
from importlib.metadata import entry_points
from pathlib import Path

from app.connectors import SubjectRef
from app.connectors.discovery import ENTRY_POINT_GROUP, discover
from app.connectors.loader import load_registry


def test_the_example_package_registers_its_entry_point() -> None:
    [point] = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == "newsletter"]
    assert point.dist is not None
    assert point.dist.name == "innsyn-connector-newsletter"
    assert point.value == "innsyn_newsletter:NewsletterConnector"


def test_discovery_validates_it_like_a_built_in() -> None:
    found = discover()
    assert "newsletter" in found.kinds, [b.reason for b in found.broken]
    assert "innsyn-connector-newsletter 0.1.0" in found.kinds["newsletter"].source


async def test_the_loader_builds_and_runs_it_from_the_connectors_file(tmp_path: Path) -> None:
    subscribers = tmp_path / "subscribers.json"
    subscribers.write_text(
        json.dumps(
            {
                "subscribers": [
                    {"id": "s-1", "email": "kari@example.no", "name": "Kari", "lists": []}
                ]
            }
        )
    )
    config = tmp_path / "connectors.toml"
    config.write_text(
        '[[connectors]]\nname = "newsletter"\nkind = "newsletter"\n'
        '[connectors.config]\npath = "${LIST_FILE}"\n'
    )

    registry = load_registry(config, environ={"LIST_FILE": str(subscribers)})
    instance = registry.get("newsletter")
    assert instance is not None
    try:
        assert (await instance.connector.check()).ok
        result = await instance.connector.collect(  # type: ignore[attr-defined]
            SubjectRef(request_id="r", emails=["kari@example.no"])
        )
        assert [r.id for r in result.records] == ["s-1"]
        categories = {c.name: c for c in instance.connector.categories()}
        assert categories["subscription"].marketing and categories["subscription"].consent_based
    finally:
        await registry.aclose()
