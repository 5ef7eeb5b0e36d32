"""The OpenAPI document lists every answer the service gives, framework answers included.

Routers declare the problems their handlers raise; the answers that come from the framework
and the middleware are the same for every operation of a kind, so they are added here: a body
that is not JSON (400) or too large (413) on every operation with a body, invalid input (422)
on every operation with parameters or a body. Every error is RFC 9457 problem+json.
"""

from __future__ import annotations

from typing import Any

PROBLEM_JSON = "application/problem+json"
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string", "format": "uri-reference"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
}
_PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
_WITH_BODY = {"400": "Malformed request: the body is not valid JSON", "413": "Body too large"}
_INVALID = "Invalid input"
_FRAMEWORK_SCHEMAS = ("HTTPValidationError", "ValidationError")


_UNAVAILABLE = (
    "The database connection was lost (a restart, a failover): nothing was changed; try "
    "again after `Retry-After` seconds."
)


def complete(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the framework's answers to every operation and make every error problem+json."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    _add_answer_schemas(schema["components"]["schemas"])
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            _complete_operation(operation)
    _drop_unused_framework_schemas(schema)
    return schema


def _complete_operation(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if "requestBody" in operation:
        for status, text in _WITH_BODY.items():
            responses.setdefault(status, {"description": text})
    if "requestBody" in operation or operation.get("parameters"):
        responses.setdefault("422", {"description": _INVALID})
    responses.setdefault("503", {"description": _UNAVAILABLE})
    for status, response in responses.items():
        if status.isdigit() and int(status) >= 400:
            response["content"] = dict(_PROBLEM_CONTENT)
            if response.get("description") == "Validation Error":
                response["description"] = _INVALID


def _drop_unused_framework_schemas(schema: dict[str, Any]) -> None:
    """FastAPI's own 422 body is never sent (the problem handler answers instead)."""
    if "#/components/schemas/HTTPValidationError" not in str(schema.get("paths", {})):
        for name in _FRAMEWORK_SCHEMAS:
            schema["components"]["schemas"].pop(name, None)


def _add_answer_schemas(schemas: dict[str, Any]) -> None:
    """The typed answer is sent by a route that answers in several formats, so FastAPI does
    not see its model: add it (and what it uses) by hand."""
    from app.schemas.report import Report

    generated = Report.model_json_schema(ref_template="#/components/schemas/{model}")
    for name, definition in generated.pop("$defs", {}).items():
        schemas.setdefault(name, definition)
    schemas.setdefault("Report", generated)
