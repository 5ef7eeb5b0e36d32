"""OpenAPI descriptions of the problem responses routers return."""

from __future__ import annotations

from typing import Any

_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    text = {
        400: "Malformed request",
        401: "No or invalid credential",
        403: "Not permitted for this caller",
        404: "Not found",
        409: "Not allowed in the current state",
        413: "Body too large",
        422: "Invalid input",
        410: "The link has expired or was revoked",
        429: "Too many attempts",
    }
    return {s: {"description": text[s], "content": _PROBLEM} for s in statuses}


AUTH = (401, 403)
