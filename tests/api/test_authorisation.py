"""Every endpoint, called with every staff role, a form API key, and no credential.

The table below is the access policy, written out independently of the code. A new route
that is not in the table fails ``test_every_route_is_in_the_policy``.
"""

from __future__ import annotations

import json

import pytest

STAFF = ("operator", "approver", "auditor", "admin")
CALLERS = ("none", "form", *STAFF)
PUBLIC = set(CALLERS)
ALL_STAFF = set(STAFF)

# (method, path) -> callers that are let through (the rest get 401 without credential, else 403)
POLICY: dict[tuple[str, str], set[str]] = {
    ("POST", "/v1/requests"): {"form", "operator", "approver", "admin"},
    ("GET", "/v1/requests"): ALL_STAFF,
    ("GET", "/v1/requests/{request_id}"): ALL_STAFF,
    ("POST", "/v1/requests/{request_id}/verification"): {"form", "operator", "admin"},
    ("POST", "/v1/requests/{request_id}/verification/resend"): {"form", *STAFF},
    ("GET", "/v1/requests/{request_id}/status"): PUBLIC,  # the status token is the credential
    ("POST", "/v1/requests/{request_id}/extend"): {"approver", "admin"},
    ("POST", "/v1/requests/{request_id}/refuse"): {"approver", "admin"},
    ("POST", "/v1/requests/{request_id}/withdraw"): {"operator", "approver", "admin"},
    ("GET", "/v1/requests/{request_id}/report"): ALL_STAFF,
    ("POST", "/v1/requests/{request_id}/answer-links"): {"operator", "admin"},
    ("POST", "/v1/requests/{request_id}/answer-links/revoke"): {"operator", "admin"},
    ("GET", "/v1/answers/{link}"): PUBLIC,  # the link is the credential (404 when unknown)
    ("POST", "/v1/requests/{request_id}/objection-decision"): {"approver", "admin"},
    ("POST", "/v1/requests/{request_id}/lift-restriction"): {"approver", "admin"},
    ("POST", "/v1/requests/{request_id}/recipient-notices/{notice_id}/resolve"): {
        "approver",
        "admin",
    },
    ("POST", "/v1/requests/{request_id}/complete"): {"operator", "admin"},
    ("POST", "/v1/requests/{request_id}/tasks/{task_id}/complete"): {"operator", "admin"},
    ("POST", "/v1/requests/{request_id}/tasks/{task_id}/retry"): {"operator", "admin"},
    ("POST", "/v1/requests/{request_id}/tasks/{task_id}/skip"): {"operator", "admin"},
    ("GET", "/v1/requests/{request_id}/letters/{letter_id}/print"): {"operator", "admin"},
    ("POST", "/v1/requests/{request_id}/release"): {"approver", "admin"},
    ("POST", "/v1/requests/{request_id}/refuse-part"): {"approver", "admin"},
    ("POST", "/v1/requests/{request_id}/letters/{letter_id}/posted"): {"operator", "admin"},
    ("GET", "/v1/audit"): {"auditor", "admin"},
    ("GET", "/v1/audit/checkpoints"): {"auditor", "admin"},
    ("POST", "/v1/audit/checkpoints"): {"auditor", "admin"},
    ("GET", "/v1/apikeys"): {"admin"},
    ("POST", "/v1/apikeys"): {"admin"},
    ("POST", "/v1/apikeys/{key_id}/revoke"): {"admin"},
    ("POST", "/v1/apikeys/{key_id}/rotate"): {"admin"},
    ("POST", "/v1/suppression/check"): {"form", *STAFF},
    ("GET", "/v1/connectors"): ALL_STAFF,
    ("GET", "/v1/holds"): ALL_STAFF,
    ("GET", "/v1/holds/catalogue"): ALL_STAFF,
    ("GET", "/v1/recipients"): ALL_STAFF,
    ("POST", "/v1/holds"): {"approver", "admin"},
    ("POST", "/v1/holds/{hold_id}/release"): {"approver", "admin"},
    ("POST", "/v1/holds/{hold_id}/recheck"): {"operator", "admin"},
    ("POST", "/v1/webhooks"): {"admin"},
    ("GET", "/v1/webhooks"): {"admin"},
    ("GET", "/v1/webhooks/{webhook_id}/deliveries"): {"admin"},
    ("PATCH", "/v1/webhooks/{webhook_id}"): {"admin"},
    ("DELETE", "/v1/webhooks/{webhook_id}"): {"admin"},
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
}


def _routes() -> set[tuple[str, str]]:
    from app.openapi_export import render

    doc = json.loads(render())
    return {(m.upper(), path) for path, ops in doc["paths"].items() for m in ops}


def test_every_route_is_in_the_policy():
    assert _routes() == set(POLICY)


BODIES = {
    "/v1/requests": {"kind": "access", "subject": {"email": "matrix@example.no"}},
    "/verification": {"code": "123456"},
    "/extend": {"months": 1, "reason": "many systems to search"},
    "/refuse": {"reason_code": "excessive", "explanation": "repeated request"},
    "/withdraw": {},
    "/objection-decision": {"decision": "upheld", "reason": "x"},
    "/lift-restriction": {"reason": "the accuracy was checked"},
    "/resolve": {"status": "sent", "reason": "told by phone"},
    "/complete": {"answers": {}},
    "/skip": {"note": "the person did not log in"},
    "/release": {"redactions": []},
    "/refuse-part": {"reason_code": "excessive", "explanation": "repeated", "system": "x"},
    "/v1/apikeys": {"name": "matrix"},
}


def _body(path: str):
    for suffix, body in BODIES.items():
        if path.endswith(suffix):
            return body
    return None


@pytest.mark.parametrize("caller", CALLERS)
async def test_access_policy(client, staff, form_key, caller):
    headers = {} if caller == "none" else form_key if caller == "form" else staff[caller]
    for (method, template), allowed in sorted(POLICY.items()):
        # A fresh request per call, so one call's effect cannot change the next one's answer.
        created = await client.post("/v1/requests", json=BODIES["/v1/requests"], headers=form_key)
        path = template.replace("{request_id}", created.json()["id"])
        params = {"token": created.json()["status_token"]} if path.endswith("/status") else None
        response = await client.request(
            method, path, json=_body(template), headers=headers, params=params
        )
        where = f"{caller} {method} {template}: {response.status_code} {response.text[:200]}"
        if caller in allowed:
            assert response.status_code not in (401, 403), where
        elif caller == "none":
            assert response.status_code == 401, where
            assert response.headers["content-type"] == "application/problem+json"
        else:
            assert response.status_code == 403, where
            assert response.json()["type"] == "/problems/forbidden"


async def test_expired_and_forged_tokens_are_401(client, settings):
    from app.domain.requests import Role
    from app.security import issue_local_token

    expired = issue_local_token(settings, subject="x", roles=[Role.admin], ttl_minutes=-5)
    forged = issue_local_token(
        settings.model_copy(update={"signing_key": __import__("pydantic").SecretStr("y" * 40)}),
        subject="x",
        roles=[Role.admin],
    )
    for token in (expired, forged, "not.a.jwt", ""):
        response = await client.get("/v1/requests", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, token


async def test_alg_none_is_refused(client):
    import base64
    import json

    def b64(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()

    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({'sub': 'x', 'roles': ['admin']})}."
    response = await client.get("/v1/requests", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


async def test_revoked_or_unknown_api_key_is_401(client, form_key, runtime):
    from sqlmodel import update

    from app.db.models import ApiKey

    body = BODIES["/v1/requests"]
    unknown = await client.post("/v1/requests", json=body, headers={"X-API-Key": "ik_abc_def"})
    assert unknown.status_code == 401
    async with runtime.db.session() as session:
        await session.exec(update(ApiKey).values(revoked_at=runtime.clock.now()))  # type: ignore[call-overload]
    revoked = await client.post("/v1/requests", json=body, headers=form_key)
    assert revoked.status_code == 401
