"""Domain errors: each names a stable problem ``code``; the HTTP layer maps codes to statuses."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule said no. ``code`` becomes the problem type, ``detail`` the human text."""

    code = "domain-error"
    title = "Request cannot be processed"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class NotFound(DomainError):
    code = "not-found"
    title = "Not found"


class InvalidTransition(DomainError):
    code = "invalid-transition"
    title = "Action not allowed in the request's current state"


class NotPermitted(DomainError):
    code = "forbidden"
    title = "Not permitted"


class InvalidInput(DomainError):
    code = "validation-error"
    title = "Invalid input"


class Conflict(DomainError):
    code = "conflict"
    title = "Conflict"


class TooManyAttempts(DomainError):
    code = "too-many-attempts"
    title = "Too many attempts"

    def __init__(self, detail: str, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class VerificationFailed(DomainError):
    code = "verification-failed"
    title = "Identity verification failed"


class Unauthenticated(DomainError):
    code = "unauthorized"
    title = "Authentication required"


class Gone(DomainError):
    """A download link that worked once and no longer does (expired or revoked)."""

    code = "link-gone"
    title = "This download link no longer works"
