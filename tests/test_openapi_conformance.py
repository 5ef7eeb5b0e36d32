"""Every status code, content type and body the service answers is in its OpenAPI document.

Schemathesis generates requests from the document, valid ones and invalid ones, and sends
them to the app in-process (ASGI), with a staff token that holds every role so that handlers
run past authorisation, and with the ids of a real request, hold and webhook so that they
run past "not found". The run is bounded (a fixed number of examples per operation, no
shrinking) and derandomized, so the suite stays fast and gives the same answer every run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.domain.requests import Role
from app.main import create_app
from app.openapi_export import render
from app.security import issue_local_token
from app.settings import Settings

CHECKS = [status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 10


def _seed(app: Any, headers: dict[str, str]) -> dict[str, str]:
    """A verified request, a hold and a webhook, so generated calls can reach real rows."""
    with asgi.get_client(app) as client:
        client.headers.update(headers)
        request = client.post(
            "/v1/requests",
            json={
                "kind": "erasure",
                "subject": {"email": "ola.nordmann@example.no", "name": "Ola Nordmann"},
                "verification": {"method": "staff", "note": "called back"},
            },
        )
        hold = client.post(
            "/v1/holds",
            json={
                "basis_code": "legal_claim",
                "connector": "*",
                "categories": ["contact"],
                "reason": "a dispute about a delivery",
                "request_id": request.json()["id"],
                "until": "2099-12-31",
            },
        )
        webhook = client.post(
            "/v1/webhooks",
            json={"url": "https://hooks.example.com/innsyn", "events": ["request.received"]},
        )
    assert (request.status_code, hold.status_code, webhook.status_code) == (201, 201, 201)
    return {
        "request_id": request.json()["id"],
        "hold_id": hold.json()["id"],
        "webhook_id": webhook.json()["id"],
    }


@pytest.fixture
def api(settings: Settings, runtime: Any) -> Iterator[tuple[Any, dict[str, str]]]:
    """The document as schemathesis reads it, and the ids of real rows.

    The app builds its own runtime in its lifespan, on schemathesis' event loop; the
    ``runtime`` fixture empties the database afterwards."""
    conformance = settings.model_copy(
        update={
            "rate_limit_per_ip_per_minute": 100_000,
            "rate_limit_per_key_per_minute": 100_000,
            "rate_limit_per_target_per_minute": 100_000,
            "rate_limit_per_subject_per_hour": 100_000,
        }
    )
    app = create_app(conformance)
    token = issue_local_token(conformance, subject="conformance", roles=list(Role))
    headers = {"Authorization": f"Bearer {token}"}
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    schema.config.headers = headers
    try:
        yield schema, _seed(app, headers)
    finally:
        asgi.shutdown_lifespans()


def _operations() -> list[str]:
    doc = json.loads(render())
    return sorted(
        f"{method.upper()} {path}" for path, ops in doc["paths"].items() for method in ops
    )


@pytest.mark.parametrize("operation", _operations())
def test_answers_conform_to_the_openapi_document(api: Any, operation: str) -> None:
    schema, known = api
    method, path = operation.split(" ", 1)
    endpoint = schema[path][method]
    strategies = [
        endpoint.as_strategy(GenerationMode.POSITIVE),
        endpoint.as_strategy(GenerationMode.NEGATIVE),
    ]
    real = {name: value for name, value in known.items() if "{" + name + "}" in path}
    if real:
        strategies.append(endpoint.as_strategy(GenerationMode.POSITIVE, path_parameters=real))

    @given(case=st.one_of(strategies))
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate(checks=CHECKS)

    run()
