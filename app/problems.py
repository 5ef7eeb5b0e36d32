"""RFC 9457 problem+json for every error the service returns, including framework ones."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.domain import errors

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "/problems/"
log = structlog.get_logger(__name__)

STATUS_BY_ERROR: dict[type[errors.DomainError], int] = {
    errors.NotFound: 404,
    errors.InvalidTransition: 409,
    errors.Conflict: 409,
    errors.NotPermitted: 403,
    errors.Unauthenticated: 401,
    errors.InvalidInput: 422,
    errors.VerificationFailed: 422,
    errors.TooManyAttempts: 429,
    errors.Gone: 410,
}

# Problem types that are not domain errors, with their titles (served at /problems/{code}).
FRAMEWORK_TYPES: dict[str, str] = {
    "unauthorized": "Authentication required",
    "malformed-json": "The body is not valid JSON",
    "payload-too-large": "Request body too large",
    "method-not-allowed": "Method not allowed",
    "not-acceptable": "Not acceptable",
    "unsupported-media-type": "Unsupported media type",
    "rate-limited": "Too many requests",
    "internal-error": "Internal server error",
    "database-unavailable": "The database is unavailable for a moment",
    "http-error": "HTTP error",
}


def problem(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    extensions: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = dict(extensions or {})
    body.update({"type": TYPE_BASE + code, "title": title, "status": status})
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def status_for(error: errors.DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 400


class Unauthorized(Exception):
    """No credential, or one that does not verify."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


async def _domain(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.DomainError)
    headers = None
    if isinstance(exc, errors.TooManyAttempts) and exc.retry_after:
        headers = {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, errors.Unauthenticated):
        headers = {"WWW-Authenticate": 'Bearer realm="innsyn"'}
    return problem(
        status_for(exc),
        exc.code,
        exc.title,
        exc.detail,
        instance=request.url.path,
        headers=headers,
        extensions=exc.extensions,
    )


async def _unauthorized(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Unauthorized)
    return problem(
        401,
        "unauthorized",
        FRAMEWORK_TYPES["unauthorized"],
        exc.detail,
        instance=request.url.path,
        headers={"WWW-Authenticate": 'Bearer realm="innsyn"'},
    )


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = exc.errors()
    if any(e.get("type") == "json_invalid" for e in raw):
        return problem(
            400,
            "malformed-json",
            FRAMEWORK_TYPES["malformed-json"],
            "the request body could not be parsed as JSON",
            instance=request.url.path,
        )
    # Input values are left out on purpose: they may be personal data.
    fields = [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": e.get("msg"), "type": e.get("type")}
        for e in raw
    ]
    detail = "; ".join(f"{'.'.join(f['loc'])}: {f['msg']}" for f in fields[:5])
    return problem(
        422,
        "validation-error",
        "Invalid input",
        detail,
        instance=request.url.path,
        extensions={"errors": fields},
    )


_HTTP_CODES = {
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    413: "payload-too-large",
    415: "unsupported-media-type",
    429: "rate-limited",
}


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http-error")
    title = HTTPStatus(exc.status_code).phrase
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    return problem(
        exc.status_code,
        code,
        title,
        detail,
        instance=request.url.path,
        headers=getattr(exc, "headers", None),
    )


async def _database(request: Request, exc: Exception) -> JSONResponse:
    """A connection the database dropped (a restart, a failover): the unit of work was rolled
    back and the pool renews its connections, so the caller may simply try again."""
    assert isinstance(exc, DBAPIError)
    if not exc.connection_invalidated:
        return await _unexpected(request, exc)
    log.warning("database_connection_lost", path=request.url.path)
    return problem(
        503,
        "database-unavailable",
        FRAMEWORK_TYPES["database-unavailable"],
        "the connection to the database was lost and nothing was changed; try again",
        instance=request.url.path,
        headers={"Retry-After": "1"},
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    return problem(
        500,
        "internal-error",
        FRAMEWORK_TYPES["internal-error"],
        "an unexpected error occurred; it has been logged",
        instance=request.url.path,
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(errors.DomainError, _domain)
    app.add_exception_handler(Unauthorized, _unauthorized)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(DBAPIError, _database)
    app.add_exception_handler(Exception, _unexpected)


def all_types() -> dict[str, str]:
    """Every problem type this service emits, code -> title."""
    types = {cls.code: cls.title for cls in STATUS_BY_ERROR}
    types.update(FRAMEWORK_TYPES)
    types["not-found"] = "Not found"
    return types
