"""Connector errors, classified so the orchestrator knows whether a retry can help.

``message`` is safe to show staff and store; ``internal_message`` is for operators' logs.
Neither may contain secrets or personal data: connectors pass identifiers only by reference.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx


class ConnectorError(Exception):
    """Base of every error a connector raises on purpose."""

    retryable = False
    kind = "permanent"

    def __init__(self, message: str, *, internal_message: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.internal_message = internal_message or message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConnectorConfigError(ConnectorError):
    """The configuration is wrong (bad URL, credentials, mapping): fix it, do not retry."""

    kind = "configuration"


class ConnectorTransientError(ConnectorError):
    """Timeouts, 5xx, 429, connection resets: retry with backoff."""

    retryable = True
    kind = "transient"

    def __init__(
        self,
        message: str,
        *,
        internal_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, internal_message=internal_message)
        self.retry_after = retry_after


class ConnectorPermanentError(ConnectorError):
    """The system refused for good (4xx, constraint violations): do not retry."""


class ConnectorValidationError(Exception):
    """A connector plugin is broken: it fails the protocol when it is loaded."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"connector {name!r} is invalid: {reason}")
        self.name = name
        self.reason = reason


_TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


def error_for_status(system: str, response: httpx.Response) -> ConnectorError:
    """The classified error for an unexpected HTTP status from ``system``.

    401/403 are configuration (credentials), 408/425/429/5xx transient (``Retry-After`` is
    honoured), other statuses permanent. Messages name the status and the path, never the
    query string or the body, which may carry personal data.
    """
    status = response.status_code
    where = f"{response.request.method} {response.request.url.path} -> HTTP {status}"
    if status in (401, 403):
        return ConnectorConfigError(
            f"{system} refused the credentials (HTTP {status})", internal_message=where
        )
    if status in _TRANSIENT_STATUS or status >= 500:
        return ConnectorTransientError(
            f"{system} is unavailable (HTTP {status})",
            internal_message=where,
            retry_after=_retry_after(response),
        )
    return ConnectorPermanentError(
        f"{system} refused the request (HTTP {status})", internal_message=where
    )


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


@contextmanager
def map_httpx_errors(system: str) -> Iterator[None]:
    """Turn httpx failures inside the block into classified connector errors.

    Use it at the connector boundary (``with map_httpx_errors("Elhub"): ...``), and call
    ``response.raise_for_status()`` for statuses you do not handle yourself. The original
    exception is not chained: its text carries URLs with queries.
    """
    try:
        yield
    except httpx.HTTPStatusError as exc:
        raise error_for_status(system, exc.response) from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
        raise ConnectorConfigError(
            f"{system}: the configured URL is not usable", internal_message=type(exc).__name__
        ) from None
    except httpx.TimeoutException as exc:
        raise ConnectorTransientError(
            f"{system} did not answer in time", internal_message=type(exc).__name__
        ) from None
    except httpx.TransportError as exc:
        raise ConnectorTransientError(
            f"{system} could not be reached", internal_message=type(exc).__name__
        ) from None
