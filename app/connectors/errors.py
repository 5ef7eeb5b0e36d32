"""Connector errors, classified so the orchestrator knows whether a retry can help.

``message`` is safe to show staff and store; ``internal_message`` is for operators' logs.
Neither may contain secrets or personal data: connectors pass identifiers only by reference.
"""

from __future__ import annotations


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
