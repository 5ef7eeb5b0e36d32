"""A refusal's reason must be one the law gives for the kind of request (Art. 12(4)).

pol. § 16 limits only Arts. 13-15, Art. 17(3) only erasure, Art. 16 has "accurate": every
pair the law does not allow is a 422 problem that leaves the request as it was.
"""

from __future__ import annotations

from typing import Any

import pytest

from app.domain.refusals import REASONS, RefusalReason, refusable
from app.domain.requests import RequestKind

SUBJECT = {"email": "alice@example.no", "name": "Alice"}


async def file(client, form_key, kind: RequestKind) -> dict[str, Any]:
    payload: dict[str, Any] = {"kind": kind.value, "subject": SUBJECT, "language": "en"}
    if kind is RequestKind.rectification:
        payload["details"] = {"changes": {"address": "Storgata 1, 0155 Oslo"}}
    response = await client.post("/v1/requests", json=payload, headers=form_key)
    assert response.status_code == 201, response.text
    return dict(response.json())


def body(code: RefusalReason) -> dict[str, str]:
    return {
        "reason_code": code.value,
        "explanation": "Explained to the person.",
        "evidence": "Checked against the signed contract of 2024-05-02",
    }


def test_the_law_as_the_table_says() -> None:
    assert not refusable(RefusalReason.internal_case_preparation, RequestKind.erasure)
    assert not refusable(RefusalReason.legal_obligation, RequestKind.access)
    assert refusable(RefusalReason.legal_obligation, RequestKind.erasure)
    assert refusable(RefusalReason.accurate, RequestKind.rectification)
    assert not refusable(RefusalReason.accurate, RequestKind.erasure)
    assert refusable(RefusalReason.excessive, RequestKind.portability)
    for code in ("freedom_of_expression", "public_health", "archiving_research"):
        assert REASONS[RefusalReason(code)].legal_reference.startswith("GDPR art. 17(3)")


@pytest.mark.parametrize("kind", list(RequestKind), ids=[k.value for k in RequestKind])
async def test_every_wrong_reason_is_refused_and_a_right_one_is_not(
    client, form_key, staff, kind: RequestKind
) -> None:
    created = await file(client, form_key, kind)
    url = f"/v1/requests/{created['id']}/refuse"
    wrong = [c for c in RefusalReason if not refusable(c, kind)]
    assert wrong  # every kind has reasons the law does not give it
    for code in wrong:
        response = await client.post(url, json=body(code), headers=staff["approver"])
        assert response.status_code == 422, (code, response.text)
        problem = response.json()
        assert response.headers["content-type"].startswith("application/problem+json")
        assert problem["type"] == "/problems/validation-error"
        assert f"cannot refuse a request of kind '{kind.value}'" in problem["detail"]
    view = await client.get(f"/v1/requests/{created['id']}", headers=staff["auditor"])
    assert view.json()["status"] == created["status"]  # nothing changed
    right = next(c for c in RefusalReason if refusable(c, kind) and c.value != "excessive")
    response = await client.post(url, json=body(right), headers=staff["approver"])
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "refused"


async def test_accurate_needs_the_evidence(client, form_key, staff) -> None:
    created = await file(client, form_key, RequestKind.rectification)
    url = f"/v1/requests/{created['id']}/refuse"
    bare = {"reason_code": "accurate", "explanation": "Your address is the one you gave us."}
    response = await client.post(url, json=bare, headers=staff["approver"])
    assert response.status_code == 422
    assert "evidence" in response.json()["detail"]
    response = await client.post(url, json=body(RefusalReason.accurate), headers=staff["approver"])
    assert response.status_code == 200, response.text
