"""The person who proves who they are still gets everything the proof covers, and can prove
more for the systems that need it: by logging in (step-up) or by staff confirming."""

from __future__ import annotations

from tests.identity.conftest import REQUESTER, VICTIM, World, leaked


def systems_of(report: dict[str, object]) -> set[str]:
    return {s["system"] for s in report["systems"]}  # type: ignore[attr-defined, index]


async def test_an_email_code_reaches_what_the_email_finds_and_elhub_waits(world: World) -> None:
    request_id = await world.by_email_code({"email": REQUESTER.email})
    await world.worker.run_until_idle()
    view = await world.view(request_id)
    assert view["status"] == "awaiting_manual"
    waiting = {
        (t["connector"], t["action"])
        for t in view["tasks"]
        if t["status"] == "needs_stronger_identity"
    }
    assert waiting == {("elhub", "collect")}
    assert view["identity"]["waiting_systems"] == ["elhub"]
    assert world.peers.elhub.requests == []  # never asked
    letters = [m["Subject"] for m in world.mails_to(REQUESTER.email)]
    assert "Confirm your identity to include all our systems" in letters

    created_token = await world.client.get(
        f"/v1/requests/{request_id}/status",
        params={"token": "x" * 32},
    )
    assert created_token.status_code == 403


async def test_stepping_up_with_an_id_token_runs_the_systems_that_waited(world: World) -> None:
    created = await world.file({"email": REQUESTER.email})
    request_id = created.json()["id"]
    status_token = created.json()["status_token"]
    await world.confirm_code(request_id, REQUESTER.email)
    await world.worker.run_until_idle()
    status = await world.client.get(
        f"/v1/requests/{request_id}/status", params={"token": status_token}
    )
    needed = status.json()["identity_needed"]
    assert needed["systems"] == ["elhub"]
    assert needed["verification_url"] == f"/v1/requests/{request_id}/verification"

    stepped = await world.client.post(
        needed["verification_url"],
        json={"id_token": world.token(REQUESTER), "id_token_nonce": "n-123"},
        headers=world.form,
    )
    assert stepped.status_code == 200, stepped.text
    view = await world.finish(request_id)
    assert view["identity"]["proven"] == ["email", "national_id"]
    assert [p["method"] for p in view["identity"]["proofs"]] == ["email_code", "oidc"]
    [elhub] = [t for t in view["tasks"] if t["connector"] == "elhub"]
    assert elhub["status"] == "succeeded"
    report = await world.report(request_id)
    assert "elhub" in systems_of(report)
    assert REQUESTER.national_id in str(report["systems"])
    assert leaked(VICTIM, report["systems"]) == []
    after = await world.client.get(
        f"/v1/requests/{request_id}/status", params={"token": status_token}
    )
    assert after.json()["identity_needed"] is None


async def test_a_step_up_token_of_another_person_is_refused(world: World) -> None:
    request_id = await world.by_email_code(
        {"email": REQUESTER.email, "national_id": REQUESTER.national_id}
    )
    await world.worker.run_until_idle()
    refused = await world.client.post(
        f"/v1/requests/{request_id}/verification",
        json={"id_token": world.token(VICTIM), "id_token_nonce": "n-123"},
        headers=world.form,
    )
    assert refused.status_code == 422, refused.text
    await world.worker.run_until_idle()
    assert world.peers.elhub.requests == []
    view = await world.view(request_id)
    assert view["identity"]["proven"] == ["email"]


async def test_an_erasure_steps_up_and_elhub_is_checked_for_holds_first(world: World) -> None:
    request_id = await world.by_email_code({"email": REQUESTER.email}, kind="erasure")
    await world.worker.run_until_idle()
    view = await world.view(request_id)
    waiting = {
        (t["connector"], t["action"])
        for t in view["tasks"]
        if t["status"] == "needs_stronger_identity"
    }
    assert waiting == {("elhub", "holds"), ("elhub", "erase")}
    stepped = await world.client.post(
        f"/v1/requests/{request_id}/verification",
        json={"id_token": world.token(REQUESTER), "id_token_nonce": "n-123"},
        headers=world.form,
    )
    assert stepped.status_code == 200, stepped.text
    view = await world.finish(request_id)
    elhub = {t["action"]: t for t in view["tasks"] if t["connector"] == "elhub"}
    assert elhub["holds"]["status"] == "succeeded"
    assert elhub["erase"]["status"] == "succeeded"
    held = [c for c in elhub["erase"]["result"]["categories"] if c["outcome"] == "held"]
    assert held, "the registry's statutory hold was found after the step-up and kept"
    assert world.crm_rows(VICTIM) == [(VICTIM.email, VICTIM.phone, VICTIM.name)]


async def test_staff_attesting_a_national_id_reaches_elhub(world: World) -> None:
    """The README walk-through: Ola phones in, the operator checks his phone and national id."""
    created = await world.file(
        {"phone": REQUESTER.phone, "national_id": REQUESTER.national_id},
        verification={
            "method": "staff",
            "note": "called back; national id checked against his ID card",
            "checked": ["phone", "national_id"],
        },
        channel="phone",
    )
    assert created.status_code == 201, created.text
    view = await world.finish(created.json()["id"])
    assert view["identity"]["proven"] == ["national_id", "phone"]
    [elhub] = [t for t in view["tasks"] if t["connector"] == "elhub"]
    assert elhub["status"] == "succeeded"


async def test_staff_confirm_a_claimed_national_id_in_review(world: World) -> None:
    request_id = await world.by_email_code(
        {"email": REQUESTER.email, "national_id": REQUESTER.national_id}
    )
    await world.worker.run_until_idle()
    view = await world.view(request_id)
    assert view["identity"]["claimed"] == ["national_id"]
    denied = await world.client.post(
        f"/v1/requests/{request_id}/verification",
        json={"method": "staff", "note": "x", "checked": ["national_id"]},
        headers=world.form,
    )
    assert denied.status_code == 403
    confirmed = await world.client.post(
        f"/v1/requests/{request_id}/verification",
        json={
            "method": "staff",
            "note": "matched against the signed contract in the archive",
            "checked": ["national_id"],
        },
        headers=world.staff["operator"],
    )
    assert confirmed.status_code == 200, confirmed.text
    view = await world.finish(request_id)
    assert view["identity"]["claimed"] == []
    assert [p["method"] for p in view["identity"]["proofs"]] == ["email_code", "staff"]
    actions = [e["action"] for e in view["timeline"]]
    assert "request.identity_proven" in actions
    assert "task.identity_released" in actions
    [elhub] = [t for t in view["tasks"] if t["connector"] == "elhub"]
    assert elhub["status"] == "succeeded"


async def test_skipping_a_system_is_stated_in_the_letter(world: World) -> None:
    request_id = await world.by_email_code({"email": REQUESTER.email}, kind="erasure")
    view = await world.finish(request_id)
    assert view["outcome"]["connectors"]["elhub"]["actions"]["erase"]["not_searched"] == (
        "identity_not_proven"
    )
    answers = ("Your request is completed", "Your request has been partly carried out")
    [letter] = [m for m in world.mails_to(REQUESTER.email) if m["Subject"] in answers]
    assert "We have not searched Elhub" in letter.get_content()
