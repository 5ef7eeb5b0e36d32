"""Instances from the connectors file (YAML or TOML), secrets from the environment."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from app.connectors.discovery import ENTRY_POINT_GROUP, Discovery, discover
from app.connectors.loader import ConnectorsFileError, load_registry
from tests.connectors import fake_plugins

SECRET = "hunter2-very-secret"


@pytest.fixture(scope="module")
def kinds() -> Discovery:
    names = {
        "good": "Good",
        "other": "Other",
        "exploding": "ExplodingInit",
        "renamed": "RenamedParameter",
    }
    return discover(
        points=[
            EntryPoint(name=n, value=f"tests.connectors.fake_plugins:{a}", group=ENTRY_POINT_GROUP)
            for n, a in names.items()
        ]
    )


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


YAML = """
connectors:
  - name: crm
    kind: good
    concurrency: 2
    timeout_seconds: 12.5
    max_attempts: 3
    config:
      url: https://crm.example.no
      password: ${CRM_PASSWORD}
  - name: crm-eu
    kind: good
    config:
      url: https://crm.example.eu
"""

TOML = """
[[connectors]]
name = "crm"
kind = "good"
concurrency = 2
timeout_seconds = 12.5
max_attempts = 3
[connectors.config]
url = "https://crm.example.no"
password = "${CRM_PASSWORD}"

[[connectors]]
name = "crm-eu"
kind = "good"
config = { url = "https://crm.example.eu" }
"""


@pytest.mark.parametrize(
    ("filename", "text"), [("c.yaml", YAML), ("c.yml", YAML), ("c.toml", TOML)]
)
def test_yaml_and_toml_configure_the_same_instances(
    tmp_path: Path, kinds: Discovery, filename: str, text: str
) -> None:
    registry = load_registry(
        write(tmp_path, filename, text), discovery=kinds, environ={"CRM_PASSWORD": SECRET}
    )

    crm, eu = registry.get("crm"), registry.get("crm-eu")
    assert crm is not None and eu is not None
    assert (crm.kind, crm.concurrency, crm.timeout_seconds, crm.max_attempts) == (
        "good",
        2,
        12.5,
        3,
    )
    assert (eu.concurrency, eu.timeout_seconds, eu.max_attempts) == (8, 30.0, 5)
    assert crm.connector is not eu.connector, "a new connector object per instance"
    config = crm.connector.config  # type: ignore[attr-defined]
    assert config.password.get_secret_value() == SECRET
    assert SECRET not in repr(config)
    assert eu.connector.config.url == "https://crm.example.eu"  # type: ignore[attr-defined]
    assert registry.kinds["good"] is fake_plugins.Good


def test_a_missing_variable_names_the_variable(tmp_path: Path, kinds: Discovery) -> None:
    registry = load_registry(write(tmp_path, "c.yaml", YAML), discovery=kinds, environ={})

    [broken] = [b for b in registry.broken if b.scope == "instance"]
    assert broken.name == "crm"
    assert "environment variable CRM_PASSWORD is not set" in broken.reason
    assert registry.get("crm") is None
    assert registry.get("crm-eu") is not None, "the other instances still load"


def test_strict_mode_fails_on_a_broken_instance(tmp_path: Path, kinds: Discovery) -> None:
    with pytest.raises(ConnectorsFileError, match="CRM_PASSWORD"):
        load_registry(write(tmp_path, "c.yaml", YAML), discovery=kinds, environ={}, strict=True)


def test_dollar_dollar_is_a_literal(tmp_path: Path, kinds: Discovery) -> None:
    text = "connectors:\n  - {name: a, kind: good, config: {url: 'http://x/$${NOT_A_VAR}'}}\n"
    registry = load_registry(write(tmp_path, "c.yaml", text), discovery=kinds, environ={})
    instance = registry.get("a")
    assert instance is not None
    assert instance.connector.config.url == "http://x/${NOT_A_VAR}"  # type: ignore[attr-defined]


def test_an_invalid_value_is_reported_without_echoing_it(tmp_path: Path, kinds: Discovery) -> None:
    text = "connectors:\n  - {name: a, kind: good, config: {retries: '${TOKEN}'}}\n"
    registry = load_registry(
        write(tmp_path, "c.yaml", text), discovery=kinds, environ={"TOKEN": SECRET}
    )
    [broken] = [b for b in registry.broken if b.scope == "instance"]
    assert "config: retries:" in broken.reason
    assert SECRET not in broken.reason


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ("{name: a, kind: nope}", "kind 'nope': no such connector installed"),
        ("{name: a, kind: renamed}", "kind 'renamed': its plugin is broken"),
        ("{name: a, kind: good, config: {pasword: x}}", "config: unknown keys pasword"),
        ("{name: a, kind: good, concurrency: 0}", "concurrency: Input should be greater"),
        ("{name: a, kind: good, colour: red}", "colour: Extra inputs are not permitted"),
        ("{name: 'a b', kind: good}", "name: String should match pattern"),
        (
            "{name: a, kind: exploding, config: {password: '${TOKEN}'}}",
            "failed to start (RuntimeError)",
        ),
    ],
)
def test_a_broken_instance_is_listed_with_its_reason(
    tmp_path: Path, kinds: Discovery, entry: str, reason: str
) -> None:
    path = write(tmp_path, "c.yaml", f"connectors:\n  - {entry}\n")
    registry = load_registry(path, discovery=kinds, environ={"TOKEN": SECRET})

    instance_broken = [b for b in registry.broken if b.scope == "instance"]
    assert len(instance_broken) == 1
    assert reason in instance_broken[0].reason
    assert SECRET not in instance_broken[0].reason
    assert registry.instances == {}


@pytest.mark.parametrize(
    ("filename", "text", "reason"),
    [
        ("c.yaml", "connectors: [", "is not valid YAML at line"),
        ("c.toml", "connectors = [", "is not valid TOML"),
        ("c.json", "{}", "must end in .yaml, .yml or .toml"),
        ("c.yaml", "connectors: {name: a}", "expected a list of instances"),
        ("c.yaml", "- name: a", "expected a list of instances"),
        (
            "c.yaml",
            "connectors:\n  - {name: a, kind: good}\n  - {name: a, kind: other}\n",
            "instance names repeat: a",
        ),
    ],
)
def test_an_unusable_file_always_fails(
    tmp_path: Path, kinds: Discovery, filename: str, text: str, reason: str
) -> None:
    with pytest.raises(ConnectorsFileError, match=reason):
        load_registry(write(tmp_path, filename, text), discovery=kinds, environ={})


def test_a_missing_file_fails(tmp_path: Path, kinds: Discovery) -> None:
    with pytest.raises(ConnectorsFileError, match="cannot read the connectors file"):
        load_registry(tmp_path / "absent.yaml", discovery=kinds)


def test_an_empty_file_or_no_file_configures_nothing(tmp_path: Path, kinds: Discovery) -> None:
    assert load_registry(write(tmp_path, "c.yaml", ""), discovery=kinds).instances == {}
    registry = load_registry(None, discovery=kinds)
    assert registry.instances == {}
    assert "good" in registry.kinds
    assert [b.name for b in registry.broken] == ["renamed"], "broken plugins are still listed"


async def test_closing_the_registry_closes_every_instance(tmp_path: Path, kinds: Discovery) -> None:
    registry = load_registry(
        write(tmp_path, "c.yaml", YAML), discovery=kinds, environ={"CRM_PASSWORD": SECRET}
    )
    before = fake_plugins.Good.closed
    await registry.aclose()
    assert fake_plugins.Good.closed == before + 2


def test_the_installed_connectors_load_from_a_file(tmp_path: Path) -> None:
    text = """
connectors:
  - name: elhub
    kind: registry
    config: {base_url: "https://api.elhub.invalid", token: "${ELHUB_TOKEN}"}
"""
    registry = load_registry(write(tmp_path, "c.yaml", text), environ={"ELHUB_TOKEN": SECRET})
    elhub = registry.get("elhub")
    assert elhub is not None
    assert SECRET not in repr(elhub.connector)
