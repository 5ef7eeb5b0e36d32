"""A company's retention policy is not a law: without an Art. 17(3) ground it never blocks an
erasure request; with one (a legal claim, a legal obligation and its statute) it does. Startup
refuses a policy that claims to block without a ground, naming the setting, never its values.
"""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from app.domain.holds import HoldCatalogue, policy
from app.settings import HoldPolicy, Settings
from tests.jobs.systems import MemorySystem, category, registry

EMAIL = "ola@example.no"
CHAT = {
    "months": 60,
    "justification": "Documented chat retention policy (Intercom), 2026",
    "nb": "Vi oppbevarer chat i fem år etter vår dokumenterte policy.",
    "en": "We keep chats for five years under our documented policy.",
}


def catalogue(settings_policies: list[dict[str, Any]]) -> HoldCatalogue:
    """What the runtime builds from ``INNSYN_HOLD_POLICIES``."""
    built = [HoldPolicy.model_validate(p) for p in settings_policies]
    return HoldCatalogue(
        policy(
            p.code,
            months=p.months,
            justification=p.justification,
            nb=p.nb,
            en=p.en,
            ground=p.ground if p.blocks_erasure else None,
            statute=p.statute,
        )
        for p in built
    )


@pytest.fixture
def chat(runtime) -> MemorySystem:
    system = MemorySystem("intercom", categories=[category("chat")])
    system.seed(EMAIL, "chat", {"text": "hello"})
    runtime.connectors = registry(system)
    return system


async def erase_after_policy_hold(client, staff, worker, code: str) -> dict[str, Any]:
    placed = await client.post(
        "/v1/holds",
        json={
            "basis_code": code,
            "connector": "intercom",
            "categories": ["chat"],
            "reason": "company retention schedule",
            "subject": {"email": EMAIL},
            "until": "2031-03-02",
        },
        headers=staff["approver"],
    )
    assert placed.status_code == 201, placed.text
    created = await client.post(
        "/v1/requests",
        json={
            "kind": "erasure",
            "subject": {"email": EMAIL},
            "verification": {"method": "staff", "note": "known customer"},
        },
        headers=staff["operator"],
    )
    assert created.status_code == 201, created.text
    await worker.run_until_idle()
    view = await client.get(f"/v1/requests/{created.json()['id']}", headers=staff["operator"])
    [task] = [t for t in view.json()["tasks"] if t["action"] == "erase"]
    return dict(task["result"])


async def test_a_policy_without_a_ground_does_not_block(client, staff, runtime, worker, chat):
    runtime.hold_catalogue = catalogue([{"code": "chat_5y", **CHAT}])
    listed = (await client.get("/v1/holds/catalogue", headers=staff["auditor"])).json()["items"]
    entry = next(i for i in listed if i["code"] == "chat_5y")
    assert entry["blocks_erasure"] is False
    assert "17(3)" not in entry["gdpr_exemption"]

    result = await erase_after_policy_hold(client, staff, worker, "chat_5y")
    assert [(c["category"], c["outcome"]) for c in result["categories"]] == [("chat", "erased")]
    assert chat.data.get(EMAIL, {}).get("chat") in (None, [])


async def test_a_policy_resting_on_a_legal_claim_blocks(client, staff, runtime, worker, chat):
    grounded = {"code": "chat_claim", **CHAT, "blocks_erasure": True, "ground": "legal_claim"}
    runtime.hold_catalogue = catalogue([grounded])
    result = await erase_after_policy_hold(client, staff, worker, "chat_claim")
    assert [(c["category"], c["outcome"], c["basis_code"]) for c in result["categories"]] == [
        ("chat", "held", "chat_claim")
    ]
    assert chat.data[EMAIL]["chat"] == [{"text": "hello"}]


@pytest.mark.parametrize(
    "bad",
    [
        {"blocks_erasure": True},
        {"blocks_erasure": True, "ground": "legal_obligation"},  # which statute?
    ],
)
def test_startup_refuses_a_policy_that_blocks_without_a_ground(bad, monkeypatch) -> None:
    secret = "Our-internal-retention-memo-7731"
    entry = {"code": "chat_5y", **CHAT, "justification": secret, **bad}
    monkeypatch.setenv("INNSYN_HOLD_POLICIES", __import__("json").dumps([entry]))
    with pytest.raises(ValidationError) as raised:
        Settings(env="test", _env_file=None)  # type: ignore[call-arg]
    message = str(raised.value)
    assert "INNSYN_HOLD_POLICIES" in message
    assert secret not in message and "chat_5y" not in message and "fem år" not in message


def test_a_legal_obligation_names_its_statute() -> None:
    grounded = HoldPolicy.model_validate(
        {
            "code": "tax_docs",
            **CHAT,
            "blocks_erasure": True,
            "ground": "legal_obligation",
            "statute": "skatteforvaltningsloven § 7-1",
        }
    )
    [basis] = [b for b in catalogue([grounded.model_dump()]).all() if b.code == "tax_docs"]
    assert (basis.law, basis.gdpr_exemption, basis.blocks_erasure) == (
        "skatteforvaltningsloven § 7-1",
        "GDPR art. 17(3)(b)",
        True,
    )
