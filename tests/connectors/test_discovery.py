"""Discovery through entry points, and validation of connector classes when they load."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from app.connectors import ConnectorValidationError
from app.connectors.discovery import ENTRY_POINT_GROUP, discover, validate_connector_class
from tests.connectors import fake_plugins

MODULE = "tests.connectors.fake_plugins"


def point(name: str, attr: str, module: str = MODULE) -> EntryPoint:
    return EntryPoint(name=name, value=f"{module}:{attr}", group=ENTRY_POINT_GROUP)


def test_a_valid_class_passes() -> None:
    assert validate_connector_class(fake_plugins.Good, name="good") is fake_plugins.Good


@pytest.mark.parametrize(
    ("cls", "name", "reason"),
    [
        (fake_plugins.not_a_class, "x", "not a class"),
        (fake_plugins.WrongKind, "wrong", "kind 'something_else' differs from the entry-point"),
        (fake_plugins.NotPydantic, "not_pydantic", "config_model` must be a pydantic"),
        (fake_plugins.MissingErase, "missing_erase", "has no method erase()"),
        (fake_plugins.RenamedParameter, "renamed", "collect(self, person: "),
        (fake_plugins.SyncCollect, "sync_collect", "collect() must be `async def`"),
        (fake_plugins.ExtraRequired, "extra_required", "extra required parameter `tenant`"),
        (fake_plugins.UndeclaredMethod, "undeclared", "defines find_holds() but does not declare"),
        (fake_plugins.RestrictWithoutDefault, "restrict_no_default", "`lift` needs a default"),
        (fake_plugins.FutureApi, "future", "api_version 99 is not supported"),
        (fake_plugins.BadInit, "bad_init", "__init__ must accept (name, config)"),
        (fake_plugins.NoCapabilities, "no_capabilities", "non-empty frozenset"),
    ],
)
def test_a_broken_class_is_rejected_with_its_name_and_reason(
    cls: object, name: str, reason: str
) -> None:
    with pytest.raises(ConnectorValidationError) as raised:
        validate_connector_class(cls, name=name)
    assert raised.value.name == name
    assert reason in raised.value.reason
    assert name in str(raised.value)


def test_broken_plugins_are_listed_not_skipped() -> None:
    found = discover(
        points=[
            point("good", "Good"),
            point("renamed", "RenamedParameter"),
            point("ghost", "Ghost", module="tests.connectors.no_such_module"),
        ]
    )

    assert set(found.kinds) == {"good"}
    assert found.kinds["good"].cls is fake_plugins.Good
    reasons = {b.name: b.reason for b in found.broken}
    assert set(reasons) == {"renamed", "ghost"}
    assert "does not match the protocol" in reasons["renamed"]
    assert "failed to import: ModuleNotFoundError" in reasons["ghost"]
    assert all(b.scope == "plugin" for b in found.broken)


def test_strict_mode_fails_on_the_first_broken_plugin() -> None:
    with pytest.raises(ConnectorValidationError, match="renamed"):
        discover(strict=True, points=[point("good", "Good"), point("renamed", "RenamedParameter")])


def test_a_kind_registered_twice_is_broken() -> None:
    found = discover(points=[point("good", "Good"), point("good", "Other")])
    assert found.kinds == {}
    [broken] = found.broken
    assert "registered more than once" in broken.reason


def test_the_installed_group_has_the_built_in_kinds() -> None:
    found = discover()
    for kind in ("registry", "manual"):
        assert kind in found.kinds, [b.reason for b in found.broken if b.name == kind]
    assert "innsyn" in found.kinds["registry"].source
