"""Art. 19: every recipient of a changed category is told (e-mail, signed webhook, the
connector's own call), or the notice records why not; nothing is skipped silently."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook

from app.connectors.testing.server import serve_app
from app.domain.recipients import Directory, RecipientSpec
from app.services import recipient_delivery
from tests.jobs.systems import MemorySystem, category, registry
from tests.webhooks.receiver import Receiver

EMAIL = "rita.rettesen@example.no"
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # base64 of 24 bytes
EVERYONE = ["Fraktkompaniet AS", "Elhub", "SSB", "Ukjent Partner AS", "Hooked AS"]


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    receiver = Receiver()
    with serve_app(receiver.app) as url:
        yield receiver, f"{url}/hook"


def directory(hook_url: str) -> Directory:
    return Directory.of(
        [
            RecipientSpec(
                name="Fraktkompaniet AS",
                notify="email",
                email="personvern@frakt.example",
                share=["email", "name"],
                language="en",
            ),
            RecipientSpec(name="Elhub", notify="connector", connector="elhub"),
            RecipientSpec(name="SSB", notify="disproportionate", reason="gets aggregates only"),
            RecipientSpec(name="Hooked AS", notify="webhook", url=hook_url, secret=SECRET),
        ]
    )


def systems() -> tuple[MemorySystem, MemorySystem]:
    crm = MemorySystem("crm", categories=[category("contact", recipients=EVERYONE)])
    crm.seed(EMAIL, "contact", {"email": EMAIL, "address": "Gamleveien 1"})
    elhub = MemorySystem("elhub", categories=[category("contact")])
    elhub.seed(EMAIL, "contact", {"address": "Gamleveien 1"})
    return crm, elhub


async def file(client, staff, kind: str, **extra) -> dict:
    response = await client.post(
        "/v1/requests",
        json={
            "kind": kind,
            "language": "en",
            "subject": {"email": EMAIL, "name": "Rita Rettesen"},
            "verification": {"method": "staff", "note": "known customer"},
        }
        | extra,
        headers=staff["operator"],
    )
    assert response.status_code == 201, response.text
    return response.json()


async def notices(client, staff, request_id: str) -> dict[str, dict]:
    view = (await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])).json()
    return {n["recipient"]: n for n in view["recipient_notices"]}


def outbox(settings) -> list[tuple[str, str, str]]:
    out = []
    for path in sorted(Path(settings.outbox_dir).glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        out.append((message["To"], message["Subject"], message.get_content()))
    return out


async def fail_every_try(server: Receiver, runtime) -> None:
    """The webhook recipient answers 503 to every try, until its notice is left to staff."""
    server.fail_next = 100
    for _ in range(recipient_delivery.RETRY.attempts):
        await recipient_delivery.deliver_due(runtime)
        runtime.clock.advance(timedelta(hours=7))


async def test_rectification_reaches_every_recipient_by_its_route(
    client, staff, runtime, worker, settings, receiver
):
    server, hook_url = receiver
    crm, elhub = systems()
    runtime.connectors = registry(crm, elhub)
    runtime.recipients = directory(hook_url)
    created = await file(client, staff, "rectification", details={"changes": {"address": "Ny 2"}})
    await worker.run_until_idle()

    planned = await notices(client, staff, created["id"])
    assert {name: n["status"] for name, n in planned.items()} == {
        "Fraktkompaniet AS": "pending",
        "Elhub": "sent",  # the elhub connector's own rectification is the notice
        "SSB": "disproportionate",
        "Ukjent Partner AS": "needs_staff",  # named by a category, no route configured
        "Hooked AS": "pending",
    }
    assert planned["SSB"]["reason"] == "gets aggregates only"
    assert planned["Fraktkompaniet AS"]["action"] == "rectification"
    assert planned["Fraktkompaniet AS"]["changes"] == [
        {"connector": "crm", "category": "contact", "fields": ["address"]}
    ]

    before = (await client.get(f"/v1/requests/{created['id']}", headers=staff["operator"])).json()
    runtime.clock.advance(timedelta(seconds=5))
    assert await recipient_delivery.deliver_due(runtime) == 2
    after = (await client.get(f"/v1/requests/{created['id']}", headers=staff["operator"])).json()
    assert after["updated_at"] > before["updated_at"]  # dashboards polling updated_since see it
    sent = await notices(client, staff, created["id"])
    assert sent["Fraktkompaniet AS"]["status"] == "sent"
    assert sent["Hooked AS"]["status"] == "sent"
    [(to, subject, body)] = [m for m in outbox(settings) if m[0] == "personvern@frakt.example"]
    assert "Art. 19" in subject
    assert "rectified" in body and "address: Ny 2" in body
    assert "name: Rita Rettesen" in body and EMAIL in body

    [message] = server.received
    payload = Webhook(SECRET).verify(message["body"], message["headers"])
    assert payload["type"] == "recipient.notice"
    assert payload["data"]["subject"] == {"email": EMAIL}  # only what it is configured to get
    assert payload["data"]["new_values"] == {"address": "Ny 2"}
    assert payload["data"]["notice_id"] == sent["Hooked AS"]["id"]

    audit = await client.get(
        "/v1/audit", params={"request_id": created["id"]}, headers=staff["auditor"]
    )
    actions = [e["action"] for e in audit.json()["items"]]
    assert actions.count("recipient_notice.planned") == 5
    assert actions.count("recipient_notice.sent") == 2
    assert "Ny 2" not in audit.text and EMAIL not in audit.text
    assert audit.json()["chain"]["verified"] is True


async def test_staff_settle_what_innsyn_cannot_send(client, staff, runtime, worker, receiver):
    _server, hook_url = receiver
    crm, elhub = systems()
    runtime.connectors = registry(crm, elhub)
    runtime.recipients = directory(hook_url)
    created = await file(client, staff, "restriction")
    await worker.run_until_idle()
    unknown = (await notices(client, staff, created["id"]))["Ukjent Partner AS"]
    assert unknown["action"] == "restriction"
    url = f"/v1/requests/{created['id']}/recipient-notices/{unknown['id']}/resolve"
    body = {"status": "sent", "reason": "Told by phone to their DPO"}
    assert (await client.post(url, json=body, headers=staff["operator"])).status_code == 403
    settled = await client.post(url, json=body, headers=staff["approver"])
    assert settled.status_code == 200, settled.text
    assert settled.json()["status"] == "sent"
    assert settled.json()["resolved_by"].startswith("staff:")
    again = await client.post(url, json=body, headers=staff["approver"])
    assert again.status_code == 409
    wrong = await client.post(
        f"/v1/requests/{created['id']}/recipient-notices/rn_nope/resolve",
        json=body,
        headers=staff["approver"],
    )
    assert wrong.status_code == 404


async def test_a_failing_recipient_is_retried_then_left_to_staff(
    client, staff, runtime, worker, receiver
):
    server, hook_url = receiver
    crm, elhub = systems()
    runtime.connectors = registry(crm, elhub)
    runtime.recipients = directory(hook_url)
    created = await file(client, staff, "restriction")
    await worker.run_until_idle()
    await fail_every_try(server, runtime)
    hooked = (await notices(client, staff, created["id"]))["Hooked AS"]
    assert hooked["status"] == "failed"
    assert hooked["attempts"] == recipient_delivery.RETRY.attempts
    assert hooked["last_error"] == "HTTP 503"
    server.fail_next = 0
    url = f"/v1/requests/{created['id']}/recipient-notices/{hooked['id']}/resolve"
    retry = await client.post(
        url, json={"status": "retry", "reason": "their endpoint is back"}, headers=staff["approver"]
    )
    assert retry.status_code == 200
    await recipient_delivery.deliver_due(runtime)
    assert (await notices(client, staff, created["id"]))["Hooked AS"]["status"] == "sent"


async def test_held_or_untouched_data_tells_no_one(client, staff, runtime, worker):
    crm = MemorySystem(
        "crm",
        categories=[
            category("contact", recipients=["Fraktkompaniet AS"]),
            category("invoices", recipients=["Inkasso AS"]),
        ],
    )
    crm.seed(EMAIL, "contact", {"email": EMAIL})
    crm.seed(EMAIL, "invoices", {"no": 1})
    placed = await client.post(
        "/v1/holds",
        json={
            "basis_code": "legal_claim",
            "connector": "crm",
            "categories": ["invoices"],
            "subject": {"email": EMAIL},
            "until": "2029-01-01",
            "reason": "a dispute about invoice 1",
        },
        headers=staff["approver"],
    )
    assert placed.status_code == 201, placed.text
    runtime.connectors = registry(crm)
    created = await file(client, staff, "erasure")
    await worker.run_until_idle()
    planned = await notices(client, staff, created["id"])
    assert list(planned) == ["Fraktkompaniet AS"]  # the held invoices were not erased
    assert planned["Fraktkompaniet AS"]["status"] == "needs_staff"  # no route configured
    nobody = await file(client, staff, "access")
    await worker.run_until_idle()
    assert await notices(client, staff, nobody["id"]) == {}


async def test_recipients_are_listed_with_routes_and_never_secrets(
    client, staff, runtime, receiver
):
    _server, hook_url = receiver
    crm, elhub = systems()
    runtime.connectors = registry(crm, elhub)
    runtime.recipients = directory(hook_url)
    listed = await client.get("/v1/recipients", headers=staff["auditor"])
    assert listed.status_code == 200
    items = {r["name"]: r for r in listed.json()["items"]}
    assert items["Hooked AS"]["target"] == "127.0.0.1"
    assert items["Ukjent Partner AS"]["configured"] is False
    assert items["Fraktkompaniet AS"]["categories"] == ["crm/contact"]
    assert SECRET not in listed.text
    assert json.loads(listed.text)["items"][0]["name"] == "Elhub"  # sorted by name
