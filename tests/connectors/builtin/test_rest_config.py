"""The rest connector's configuration rules and HTTP helpers, without a server."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from app.connectors.builtin.rest import RestConnector
from app.connectors.builtin.rest_config import RestConfig
from app.connectors.builtin.rest_erase import plan_erasure
from app.connectors.builtin.rest_http import (
    raise_for_status,
    render,
    render_json,
    retry_after_seconds,
    same_origin_url,
    set_path,
)
from app.connectors.discovery import validate_connector_class
from app.connectors.errors import (
    ConnectorConfigError,
    ConnectorPermanentError,
    ConnectorTransientError,
)
from app.connectors.loader import load_registry
from tests.connectors.builtin.test_rest_support import EXAMPLES, intercom_config

BASE = "http://127.0.0.1:9"


def config_with(mutate: Any) -> dict[str, Any]:
    config = copy.deepcopy(intercom_config(BASE))
    mutate(config)
    return config


def test_the_class_passes_registration() -> None:
    validate_connector_class(RestConnector, name="rest")


@pytest.mark.parametrize("example", ["intercom", "hubspot"])
async def test_examples_load_through_the_connectors_file(example: str) -> None:
    environ = {"INTERCOM_TOKEN": "t-123456", "HUBSPOT_TOKEN": "t-654321"}
    registry = load_registry(EXAMPLES / f"{example}.yaml", strict=True, environ=environ)
    [instance] = registry.active()
    assert instance.kind == "rest" and isinstance(instance.connector, RestConnector)
    assert len(instance.connector.categories()) >= 2
    await registry.aclose()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c["categories"][0]["search"].update(path="/x/{emial}"), "unknown placeholders"),
        (lambda c: c["categories"][0].update(items_path="data[?"), "invalid JMESPath"),
        (lambda c: c["categories"][1].update(parent="nope"), "is not a category"),
        (
            lambda c: c["categories"][0].update(
                parent="chat_notes", search={"path": "/{parent_id}"}
            ),
            "cycle",
        ),
        (lambda c: c["categories"][0]["erase"].update(body={}), "must use {id}"),
        (
            lambda c: c["categories"][1].update(parent=None, search={"path": "/c/{email}"}),
            "needs a parent",
        ),
        (lambda c: c["categories"][0]["search"].update(body={}), "identifier placeholder"),
        (
            lambda c: c["categories"][0]["search"].update(body={"q": "{name}"}),
            "may only narrow",
        ),
        (lambda c: c.update(base_url="ftp://x"), "http:// or https://"),
        (lambda c: c["categories"].append(c["categories"][0]), "repeat"),
        (lambda c: c["categories"][0]["paging"].update(cursor_path=""), "at least 1"),
    ],
)
def test_mistakes_fail_when_the_config_loads(mutate: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("{", r"\{").replace("}", r"\}")):
        RestConfig.model_validate(config_with(mutate))


def test_secret_is_masked_in_every_rendering() -> None:
    config = RestConfig.model_validate(intercom_config(BASE, token="very-secret-token"))
    shown = [repr(config), str(config), config.model_dump_json(), str(config.model_dump())]
    assert not [s for s in shown if "very-secret-token" in s]


def test_templates_encode_path_values_only() -> None:
    values = {"email": "a+b@example.com", "id": "x/y"}
    assert render("/contacts/{id}", values, quote_values=True) == "/contacts/x%2Fy"
    assert render_json({"q": ["{email}", 3]}, values) == {"q": ["a+b@example.com", 3]}
    document: dict[str, Any] = {"pagination": {"per_page": 2}}
    set_path(document, "pagination.starting_after", "c9")
    assert document == {"pagination": {"per_page": 2, "starting_after": "c9"}}


def test_retry_after_as_seconds_or_http_date() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert retry_after_seconds("120", now=now) == 120.0
    assert retry_after_seconds("Mon, 02 Mar 2026 09:01:30 GMT", now=now) == 90.0
    assert retry_after_seconds("Mon, 02 Mar 2026 08:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon", now=now) is None
    assert retry_after_seconds(None) is None


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (429, ConnectorTransientError, "rate limiting"),
        (503, ConnectorTransientError, "HTTP 503"),
        (408, ConnectorTransientError, "HTTP 408"),
        (401, ConnectorConfigError, "credentials rejected"),
        (403, ConnectorConfigError, "credentials rejected"),
        (400, ConnectorPermanentError, "HTTP 400"),
        (302, ConnectorPermanentError, "redirect"),
    ],
)
def test_status_classification(status: int, error: type[Exception], message: str) -> None:
    response = httpx.Response(status, headers={"Retry-After": "3"}, text='{"echo": "kari@x"}')
    with pytest.raises(error, match=message) as raised:
        raise_for_status(response, "POST /contacts/search")
    assert "kari@x" not in str(raised.value) + getattr(raised.value, "internal_message", "")
    if status == 429:
        assert getattr(raised.value, "retry_after", None) == 3.0


def test_tolerated_status_is_not_an_error() -> None:
    assert raise_for_status(httpx.Response(404), "DELETE /x/{id}", tolerated=[404]) is False
    assert raise_for_status(httpx.Response(204), "DELETE /x/{id}") is True


def test_next_links_must_stay_under_the_base_url() -> None:
    base = httpx.URL("https://api.example.com/v2/")
    assert str(same_origin_url(base, "/v2/items?page=2", "GET /items")).endswith("/v2/items?page=2")
    for link in ("https://evil.example/v2/items", "http://api.example.com/v2/x", "/v1/items"):
        with pytest.raises(ConnectorPermanentError):
            same_origin_url(base, link, "GET /items")


def test_erasure_plan_keeps_parents_of_kept_children() -> None:
    config = RestConfig.model_validate(intercom_config(BASE))
    order = config.categories
    has = {"chat_contact": True, "chat_conversations": True, "chat_notes": True}
    plans = plan_erasure(order, ["chat_contact", "chat_conversations", "chat_notes"], has)
    assert {n: p.action for n, p in plans.items()} == {
        "chat_contact": "own",
        "chat_conversations": "parent",
        "chat_notes": "parent",
    }
    plans = plan_erasure(order, ["chat_contact", "chat_conversations"], has)
    assert plans["chat_contact"].action == "keep" and plans["chat_conversations"].action == "keep"
    # Without notes for this person, nothing is orphaned.
    plans = plan_erasure(
        order, ["chat_contact", "chat_conversations"], {**has, "chat_notes": False}
    )
    assert plans["chat_contact"].action == "own"


def test_examples_directory_has_the_rest_examples() -> None:
    assert {p.stem for p in Path(EXAMPLES).glob("*.yaml")} >= {"intercom", "hubspot", "imap"}
