"""The checked-in OpenAPI document must be what the app generates (``make openapi``)."""

from pathlib import Path

from app.openapi_export import render

CHECKED_IN = Path(__file__).parents[1] / "openapi" / "openapi.json"


def test_openapi_document_is_current() -> None:
    assert CHECKED_IN.exists(), "run `make openapi` and commit openapi/openapi.json"
    assert CHECKED_IN.read_text() == render(), "openapi/openapi.json is stale: run `make openapi`"


def test_every_operation_documents_its_errors_as_problems() -> None:
    import json

    doc = json.loads(render())
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            assert op.get("summary"), f"{method.upper()} {path} has no summary"
            assert op["operationId"].count("-") >= 1
