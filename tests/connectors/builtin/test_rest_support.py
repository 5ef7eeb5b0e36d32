"""Shared pieces of the rest connector tests: the example configs, pointed at loopback peers."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from innsyn_peers import hubspot, intercom

from app.connectors.builtin.rest import RestConnector
from app.connectors.builtin.rest_config import RestConfig
from app.connectors.loader import expand_env, read_file

EXAMPLES = Path(__file__).parents[3] / "examples" / "connectors"
INTERCOM_TOKEN = "ic-secret-7f3a9d2b"
HUBSPOT_TOKEN = "hs-secret-41c8e0aa"


def example(name: str, environ: dict[str, str]) -> dict[str, Any]:
    """The ``config`` block of the first instance in examples/connectors/<name>.yaml."""
    [instance] = read_file(EXAMPLES / f"{name}.yaml")
    config = expand_env(instance["config"], environ, where=name)
    assert isinstance(config, dict)
    return config


def intercom_config(
    base_url: str, *, token: str = INTERCOM_TOKEN, **overrides: Any
) -> dict[str, Any]:
    """The Intercom example with small pages, so every test walks several pages."""
    config = example("intercom", {"INTERCOM_TOKEN": token})
    config["base_url"] = base_url
    contact, conversations, notes = config["categories"]
    contact["search"]["body"]["pagination"]["per_page"] = 2
    conversations["search"]["params"]["per_page"] = "2"
    notes["search"]["params"]["per_page"] = "2"
    config.update(overrides)
    return config


def hubspot_config(
    base_url: str, *, token: str = HUBSPOT_TOKEN, **overrides: Any
) -> dict[str, Any]:
    """The HubSpot example with small pages."""
    config = example("hubspot", {"HUBSPOT_TOKEN": token})
    config["base_url"] = base_url
    contact, emails = config["categories"]
    contact["search"]["body"]["limit"] = 2
    emails["search"]["params"]["limit"] = "2"
    config.update(overrides)
    return config


def category(config: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in config["categories"] if c["name"] == name)
    return found


def build(config: dict[str, Any], name: str = "saas") -> RestConnector:
    return RestConnector(name=name, config=RestConfig.model_validate(copy.deepcopy(config)))


@pytest.fixture
async def built() -> AsyncIterator[Callable[..., RestConnector]]:
    """``built(config)``: a connector that is closed when the test ends, pass or fail."""
    made: list[RestConnector] = []

    def make(config: dict[str, Any], name: str = "saas") -> RestConnector:
        made.append(build(config, name))
        return made[-1]

    yield make
    for connector in made:
        await connector.aclose()


@pytest.fixture(scope="module")
def intercom_server() -> Iterator[tuple[str, intercom.IntercomState]]:
    state = intercom.IntercomState(token=INTERCOM_TOKEN)
    with intercom.serve(state) as base_url:
        yield base_url, state


@pytest.fixture
def intercom_peer(
    intercom_server: tuple[str, intercom.IntercomState],
) -> Iterator[tuple[str, intercom.IntercomState]]:
    """The module's Intercom peer, emptied for each test."""
    base_url, state = intercom_server
    state.clear()
    yield base_url, state
    state.clear()


@pytest.fixture(scope="module")
def hubspot_server() -> Iterator[tuple[str, hubspot.HubspotState]]:
    state = hubspot.HubspotState(token=HUBSPOT_TOKEN)
    with hubspot.serve(state) as base_url:
        yield base_url, state


@pytest.fixture
def hubspot_peer(
    hubspot_server: tuple[str, hubspot.HubspotState],
) -> Iterator[tuple[str, hubspot.HubspotState]]:
    """The module's HubSpot peer, emptied for each test."""
    base_url, state = hubspot_server
    state.clear()
    state.auth_header = "Authorization"
    yield base_url, state
    state.clear()
