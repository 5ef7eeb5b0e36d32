"""Only the verified person: what an impostor sends beside their own proof reaches nobody.

Ola proves his own e-mail (the code comes to his mailbox) or logs in as himself, and names
Kari (her national id, phone, customer number, e-mail) in the form. Every route must hand
out none of Kari's data and erase nothing of hers, in every system of the demo.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import select

from app.db.models import AuditEvent
from tests.identity.conftest import REQUESTER, VICTIM, World, leaked

CLAIMS: dict[str, dict[str, Any]] = {
    "national id and phone": {"national_id": VICTIM.national_id, "phone": VICTIM.phone},
    "phone": {"phone": VICTIM.phone},
    "national id": {"national_id": VICTIM.national_id},
    "customer number": {"customer_ids": {"crm": VICTIM.customer_no}},
}
# A second e-mail in a field of its own is refused outright: the subject takes only the
# documented identifiers (tests/api/test_input_bounds.py).


def victim_untouched(world: World) -> None:
    assert world.crm_rows(VICTIM) == [(VICTIM.email, VICTIM.phone, VICTIM.name)]
    assert world.invoices(VICTIM) == 1
    assert world.chat_contacts(VICTIM) == 1


@pytest.mark.parametrize("claimed", CLAIMS.values(), ids=CLAIMS.keys())
async def test_claims_beside_a_proven_email_find_nothing_of_another_person(
    world: World, claimed: dict[str, Any]
) -> None:
    request_id = await world.by_email_code({"email": REQUESTER.email} | claimed)
    view = await world.finish(request_id)
    report = await world.report(request_id)
    assert leaked(VICTIM, report["systems"]) == []
    assert REQUESTER.email in str(report["systems"])  # his own data is there
    assert sorted(view["identity"]["claimed"]) == sorted(
        k for k in claimed if k in ("national_id", "phone", "customer_ids")
    )
    assert view["identity"]["proven"] == ["email"]


@pytest.mark.parametrize(
    "claimed",
    [CLAIMS["phone"], CLAIMS["national id"], CLAIMS["customer number"]],
    ids=["phone", "national id", "customer number"],
)
async def test_an_erasure_with_claims_erases_nothing_of_another_person(
    world: World, claimed: dict[str, Any]
) -> None:
    request_id = await world.by_email_code({"email": REQUESTER.email} | claimed, kind="erasure")
    await world.finish(request_id)
    victim_untouched(world)
    assert world.crm_rows(REQUESTER) != [(REQUESTER.email, REQUESTER.phone, REQUESTER.name)]


async def test_a_token_without_pid_verifies_nothing(world: World) -> None:
    """No pid and no verified e-mail: it proves nothing, so the code goes to the e-mail the
    form named (Kari's), which the impostor cannot read."""
    subject = {"email": VICTIM.email, "national_id": VICTIM.national_id}
    created = await world.file(subject, id_token=world.token(None), id_token_nonce="n-123")
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "received"
    assert created.json()["verification"]["state"] == "pending"
    assert world.code_sent_to(VICTIM.email)
    only_national_id = await world.file(
        {"national_id": VICTIM.national_id}, id_token=world.token(None, jti="second")
    )
    assert only_national_id.status_code == 422
    assert only_national_id.json()["type"].endswith("verification-failed")
    await world.worker.run_until_idle()
    assert world.peers.elhub.requests == []


@pytest.mark.parametrize(
    ("kind", "subject"),
    [
        ("access", {"email": VICTIM.email}),
        ("erasure", {"email": VICTIM.email}),
    ],
    ids=["access by e-mail", "erasure by e-mail"],
)
async def test_ones_own_token_naming_another_person_by_email_falls_back_to_her_code(
    world: World, kind: str, subject: dict[str, Any]
) -> None:
    created = await world.file(subject, kind, id_token=world.token(REQUESTER))
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "received"
    assert world.code_sent_to(VICTIM.email)
    await world.worker.run_until_idle()
    victim_untouched(world)
    view = await world.view(created.json()["id"])
    assert view["tasks"] == []
    assert "national_id" not in view["subject"]  # Ola's pid was not bound to Kari's request


@pytest.mark.parametrize(
    ("kind", "subject", "claims"),
    [
        ("access", {"national_id": VICTIM.national_id}, {}),
        ("erasure", {"national_id": VICTIM.national_id, "email": VICTIM.email}, {}),
        ("access", {"phone": VICTIM.phone}, {}),
        ("erasure", {"phone": VICTIM.phone}, {}),
        (
            "access",
            {"email": VICTIM.email},
            {"email": REQUESTER.email, "email_verified": True, "pid": None},
        ),
    ],
    ids=[
        "access by national id",
        "erasure by national id",
        "access by phone",
        "erasure by phone",
        "verified e-mail of another",
    ],
)
async def test_ones_own_token_naming_another_person_is_refused(
    world: World, kind: str, subject: dict[str, Any], claims: dict[str, Any]
) -> None:
    created = await world.file(subject, kind, id_token=world.token(REQUESTER, **claims))
    assert created.status_code == 422, created.text
    assert created.json()["type"].endswith("verification-failed")
    await world.worker.run_until_idle()
    victim_untouched(world)
    async with world.rt.db.session() as session:
        actions = list(await session.exec(select(AuditEvent.action)))
    assert "verification.id_token_rejected" in actions or (
        "verification.id_token_unbound" in actions
    )


async def test_a_token_verifies_one_request_only(world: World) -> None:
    token = world.token(REQUESTER)
    subject = {"national_id": REQUESTER.national_id}
    first = await world.file(subject, id_token=token, id_token_nonce="n-123")
    assert first.status_code == 201, first.text
    assert first.json()["verification"]["state"] == "verified"
    again = await world.file(subject, "erasure", id_token=token, id_token_nonce="n-123")
    assert again.status_code == 422, again.text
    assert "already used" in again.json()["detail"]
    async with world.rt.db.session() as session:
        events = list(await session.exec(select(AuditEvent)))
    verified = [e for e in events if e.action == "request.verify"]
    assert verified[0].detail["issuer"] == world.issuer.url
    assert verified[0].detail["subject_hash"]
    assert REQUESTER.customer_no not in str(verified[0].detail)  # sub kept hashed only
    refused = [e for e in events if e.action == "verification.id_token_rejected"]
    assert refused[-1].detail["reason"] == "replayed"
    assert refused[-1].detail["subject_hash"] == verified[0].detail["subject_hash"]


async def test_the_nonce_is_required_when_configured(world: World) -> None:
    world.rt.settings = world.rt.settings.model_copy(update={"oidc_require_nonce": True})
    subject = {"national_id": REQUESTER.national_id}
    missing = await world.file(subject, id_token=world.token(REQUESTER))
    assert missing.status_code == 422
    assert "nonce" in missing.json()["detail"]
    wrong = await world.file(subject, id_token=world.token(REQUESTER), id_token_nonce="other")
    assert wrong.status_code == 422
    right = await world.file(subject, id_token=world.token(REQUESTER), id_token_nonce="n-123")
    assert right.status_code == 201, right.text


async def test_staff_attestation_proves_only_what_was_checked(world: World) -> None:
    """The operator checked Ola's phone by calling back; the national id he also gave is a
    claim (here Kari's, mistyped or not): it reaches no system."""
    created = await world.file(
        {"phone": REQUESTER.phone, "national_id": VICTIM.national_id},
        verification={"method": "staff", "note": "called back on his number", "checked": ["phone"]},
        channel="phone",
    )
    assert created.status_code == 201, created.text
    request_id = created.json()["id"]
    view = await world.finish(request_id)
    assert view["identity"]["proven"] == ["phone"]
    assert view["identity"]["claimed"] == ["national_id"]
    assert view["identity"]["proofs"][0]["blanket"] is False
    report = await world.report(request_id)
    assert leaked(VICTIM, report["systems"]) == []
    assert REQUESTER.name in str(report["systems"])
    bad = await world.file(
        {"phone": REQUESTER.phone},
        verification={"method": "staff", "note": "x", "checked": ["national_id"]},
    )
    assert bad.status_code == 422
