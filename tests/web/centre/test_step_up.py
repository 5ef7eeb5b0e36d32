"""The status page's "Bekreft med ID-porten": a request verified by e-mail code, with a system
waiting for the national identity number, is confirmed by logging in with the real issuer on
loopback; the systems that waited then run. Someone else's log-in, or a browser without the
request's status token, confirms nothing."""

from __future__ import annotations

from pathlib import Path

import httpx

from app.connectors.registry import ConnectorRegistry
from app.main import create_app
from tests.jobs.systems import MemorySystem, instance
from tests.security.oidc_issuer import served_issuer  # noqa: F401 (the fixture)
from tests.web.centre.helpers import csrf_of, last_code, post_form
from tests.web.centre.test_idporten import KARI_ID, OLA, OLA_ID, _log_in, centre

__all__ = ["centre"]


async def _waiting(centre, runtime, settings, worker, **claimed: str) -> tuple[str, MemorySystem]:
    """A request verified by e-mail code, the national registry waiting for a stronger proof."""
    crm, registry = MemorySystem("crm"), MemorySystem("folkeregister")
    crm.seed(OLA["email"], "contact", {"email": OLA["email"]})
    runtime.connectors = ConnectorRegistry.of(
        [instance(crm), instance(registry, required_identity=frozenset({"national_id"}))]
    )
    filed = await post_form(centre, "/personvern/", OLA | claimed)
    request_id = filed.headers["location"].split("/")[3]
    page = await centre.get(f"/personvern/requests/{request_id}/code")
    code = last_code(Path(settings.outbox_dir))
    done = await centre.post(
        f"/personvern/requests/{request_id}/code",
        data={"csrf_token": csrf_of(page.text), "code": code},
    )
    assert done.status_code == 303, done.text
    await worker.run_until_idle()
    return request_id, registry


async def _confirm(centre, request_id: str) -> httpx.Response:
    status = await centre.get(f"/personvern/requests/{request_id}")
    assert status.status_code == 200
    assert "Bekreft med ID-porten" in status.text and "folkeregister" in status.text
    return await centre.post(
        f"/personvern/requests/{request_id}/idporten", data={"csrf_token": csrf_of(status.text)}
    )


async def test_confirming_with_idporten_runs_the_waiting_systems(
    centre, issuer, runtime, settings, worker, staff
):
    request_id, registry = await _waiting(centre, runtime, settings, worker)
    view = (await centre.get(f"/v1/requests/{request_id}", headers=staff["operator"])).json()
    assert view["identity"]["waiting_systems"] == ["folkeregister"]
    forged = await centre.post(f"/personvern/requests/{request_id}/idporten", data={})
    assert forged.status_code == 403  # another site cannot start the log-in
    sent = await _confirm(centre, request_id)
    assert sent.status_code == 303 and sent.headers["location"].startswith(issuer.url)
    back = await centre.get(await _log_in(sent.headers["location"]))
    assert back.status_code == 303
    assert back.headers["location"] == f"/personvern/requests/{request_id}?confirmed=confirmed"
    told = await centre.get(back.headers["location"])
    assert "Du har bekreftet hvem du er med ID-porten" in told.text
    await worker.run_until_idle()
    view = (await centre.get(f"/v1/requests/{request_id}", headers=staff["operator"])).json()
    assert "national_id" in view["identity"]["proven"]
    [waited] = [t for t in view["tasks"] if t["connector"] == "folkeregister"]
    assert waited["status"] == "succeeded"
    assert registry.calls.counts  # searched at last


async def test_someone_elses_log_in_confirms_nothing(
    centre, issuer, runtime, settings, worker, staff
):
    request_id, _ = await _waiting(centre, runtime, settings, worker, national_id=OLA_ID)
    issuer.login_claims = {"pid": KARI_ID}  # Ola said which national id is his
    sent = await _confirm(centre, request_id)
    refused = await centre.get(await _log_in(sent.headers["location"]))
    assert refused.headers["location"].endswith("?confirmed=confirm_mismatch")
    told = await centre.get(refused.headers["location"])
    assert "en annen person" in told.text
    view = (await centre.get(f"/v1/requests/{request_id}", headers=staff["operator"])).json()
    assert "national_id" not in view["identity"]["proven"]


async def test_only_the_browser_holding_the_request_may_confirm(
    centre, issuer, runtime, settings, worker
):
    request_id, _ = await _waiting(centre, runtime, settings, worker)
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://innsyn.test") as other:
        page = await other.get("/personvern/")
        refused = await other.post(
            f"/personvern/requests/{request_id}/idporten",
            data={"csrf_token": csrf_of(page.text)},
        )
        assert refused.status_code == 404
