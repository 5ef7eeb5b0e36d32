"""Art. 17(2): when erased data had been made public, the controllers known to process it are
told to erase links and copies, by the same routes as Art. 19 notices; held data tells none."""

from __future__ import annotations

from app.domain.recipients import Directory, RecipientSpec
from app.services import recipient_delivery
from tests.jobs.systems import MemorySystem, category, registry
from tests.recipients.test_art19 import EMAIL, file, notices, outbox

LISTING = "Bransjeregisteret AS"


def register() -> MemorySystem:
    system = MemorySystem(
        "register",
        categories=[
            category("public_listing", published_to=[LISTING, "Søkemotor AS"]),
            category("contact"),
        ],
    )
    system.seed(EMAIL, "public_listing", {"name": "Rita Rettesen", "trade": "Rørlegger"})
    system.seed(EMAIL, "contact", {"email": EMAIL})
    return system


async def test_erasing_published_data_asks_its_other_controllers_to_erase_it(
    client, staff, runtime, worker
):
    runtime.connectors = registry(register())
    runtime.recipients = Directory.of(
        [
            RecipientSpec(
                name=LISTING,
                notify="email",
                email="personvern@bransjeregisteret.example",
                share=["name"],
                language="nb",
            )
        ]
    )
    created = await file(client, staff, "erasure")
    await worker.run_until_idle()
    await recipient_delivery.deliver_due(runtime)
    planned = await notices(client, staff, created["id"])
    assert set(planned) == {LISTING, "Søkemotor AS"}
    assert planned[LISTING]["action"] == "erasure_published"
    assert planned[LISTING]["status"] == "sent"
    assert planned["Søkemotor AS"]["status"] == "needs_staff"  # no route: staff tell them
    [(to, subject, body)] = [m for m in outbox(runtime.settings) if "bransje" in m[0]]
    assert subject == "Slettede personopplysninger som var offentliggjort"
    assert "art. 17 nr. 2" in body and "register: public_listing" in body
    assert "Rita Rettesen" in body and EMAIL not in body  # only what it is set to share


async def test_access_or_untouched_published_data_tells_no_one(client, staff, runtime, worker):
    runtime.connectors = registry(register())
    created = await file(client, staff, "access")
    await worker.run_until_idle()
    assert await notices(client, staff, created["id"]) == {}
