"""HTTP plumbing of the ``rest`` connector: templates, auth, and error classification.

Kept apart from the connector so the rules that decide "retry or not" and "what may be
said in a message" can be read (and tested) in one place. Messages name the request by its
*template* (``POST /contacts/search``), never the rendered URL or body, because those carry
the person's identifiers.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterable, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from app.connectors.errors import (
    ConnectorConfigError,
    ConnectorPermanentError,
    ConnectorTransientError,
)

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def placeholders(*templates: Any) -> set[str]:
    """Every ``{name}`` used in strings anywhere inside ``templates`` (nested JSON too)."""
    found: set[str] = set()
    for template in templates:
        for text in _strings(template):
            found.update(PLACEHOLDER.findall(text))
    return found


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def render(template: str, values: Mapping[str, str], *, quote_values: bool = False) -> str:
    """Fill ``{name}`` placeholders; path segments are percent-encoded (``quote_values``)."""

    def fill(match: re.Match[str]) -> str:
        value = values[match.group(1)]
        return quote(value, safe="") if quote_values else value

    return PLACEHOLDER.sub(fill, template)


def render_json(template: Any, values: Mapping[str, str]) -> Any:
    """Fill placeholders in every string of a JSON template; other values are kept."""
    if isinstance(template, str):
        return render(template, values)
    if isinstance(template, Mapping):
        return {render(k, values): render_json(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [render_json(item, values) for item in template]
    return template


def set_path(document: dict[str, Any], dotted: str, value: Any) -> None:
    """Set ``a.b.c`` in a nested dict, creating the dicts on the way."""
    *parents, last = dotted.split(".")
    node = document
    for key in parents:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[last] = value


class SecretHeaderAuth(httpx.Auth):
    """Adds the credential header per request, so it never sits in client defaults or reprs."""

    def __init__(self, header: str, value: SecretStr, prefix: str = "") -> None:
        self._header = header
        self._value = value
        self._prefix = prefix

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers[self._header] = self._prefix + self._value.get_secret_value()
        yield request

    def __repr__(self) -> str:
        return f"SecretHeaderAuth(header={self._header!r}, value=**********)"


@contextmanager
def map_httpx_errors(what: str) -> Generator[None, None, None]:
    """Turn transport failures into classified connector errors (after httpx's map_exceptions).

    Args:
        what: the request template, e.g. ``"GET /me"``; used in the internal message.
    """
    try:
        yield
    except httpx.TimeoutException as exc:
        raise ConnectorTransientError(
            "the system did not answer in time", internal_message=f"{what}: {type(exc).__name__}"
        ) from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise ConnectorConfigError(
            "the configured URL is not usable", internal_message=f"{what}: {type(exc).__name__}"
        ) from None
    except httpx.TransportError as exc:
        raise ConnectorTransientError(
            "could not reach the system", internal_message=f"{what}: {type(exc).__name__}"
        ) from None


def raise_for_status(response: httpx.Response, what: str, *, tolerated: Iterable[int] = ()) -> bool:
    """Classify a non-2xx answer; returns False for a tolerated status (e.g. 404 on delete).

    The response body is never quoted: APIs echo the request, which holds personal data.
    """
    status = response.status_code
    if 200 <= status < 300:
        return True
    if status in set(tolerated):
        return False
    detail = f"{what} -> HTTP {status}"
    if status == 429:
        raise ConnectorTransientError(
            "the system is rate limiting requests",
            internal_message=detail,
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )
    if status in (401, 403):
        raise ConnectorConfigError("credentials rejected", internal_message=detail)
    if status >= 500 or status == 408:
        raise ConnectorTransientError(
            f"the system failed (HTTP {status})",
            internal_message=detail,
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )
    if 300 <= status < 400:
        raise ConnectorPermanentError(
            f"the system answered with a redirect (HTTP {status}); check base_url",
            internal_message=detail,
        )
    raise ConnectorPermanentError(
        f"the system refused the request (HTTP {status})", internal_message=detail
    )


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def json_body(response: httpx.Response, what: str) -> Any:
    """The decoded JSON answer (``None`` when empty, e.g. 204)."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        raise ConnectorPermanentError(
            "the system did not answer with JSON", internal_message=f"{what}: not JSON"
        ) from None


def same_origin_url(base_url: httpx.URL, link: str, what: str) -> httpx.URL:
    """Resolve a next-page link and refuse one that leaves the configured API.

    The credential header goes with every request, so following a link to another host
    would hand it over.
    """
    url = base_url.join(link)
    base_path = base_url.path.rstrip("/") + "/"
    same = (url.scheme, url.host, url.port) == (base_url.scheme, base_url.host, base_url.port)
    if not same or not (url.path + "/").startswith(base_path):
        raise ConnectorPermanentError(
            "a next-page link points outside the configured base_url",
            internal_message=f"{what}: next link to another origin",
        )
    return url
