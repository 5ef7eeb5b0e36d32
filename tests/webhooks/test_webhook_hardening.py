"""Webhooks cannot be pointed at internal addresses, in any disguise or by DNS rebinding, and
admins can pause, resume, re-key and delete subscriptions."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlmodel import select
from standardwebhooks.webhooks import Webhook

from app.db.models import AuditEvent
from app.infra.outbound import BlockedAddress, pinned_client, resolve_checked
from app.services import webhook_delivery
from tests.webhooks.receiver import Receiver


@contextmanager
def serving(app: Any, host: str, port: int = 0, **config: Any) -> Iterator[int]:
    """``app`` on ``host``:``port`` (0: a free one) in a thread; yields the port."""
    server = uvicorn.Server(
        uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off", **config)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.005)
    try:
        yield int(server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(timeout=10)


class Rebinding:
    """A DNS server that answers the first lookup with one address and later ones with
    another: what an attacker runs to pass a check and then reach an internal host."""

    def __init__(self, first: str, then: str) -> None:
        self.answers = [first, then]
        self.lookups: list[str] = []

    async def __call__(self, host: str, _port: int) -> list[str]:
        self.lookups.append(host)
        return [self.answers[min(len(self.lookups) - 1, 1)]]


DISGUISED = [
    "http://[64:ff9b::7f00:1]/hook",  # NAT64 of 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/hook",  # NAT64 of the cloud metadata address
    "http://[2002:7f00:1::]/hook",  # 6to4 of 127.0.0.1
    "http://[::ffff:127.0.0.1]/hook",  # IPv4-mapped
    "http://[::127.0.0.1]/hook",  # IPv4-compatible
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",  # Teredo, client 127.0.0.1
]


@pytest.mark.parametrize("url", DISGUISED)
async def test_ipv4_inside_ipv6_is_refused(client, staff, runtime, url):
    runtime.settings = runtime.settings.model_copy(update={"webhooks_allow_private": False})
    response = await client.post("/v1/webhooks", json={"url": url}, headers=staff["admin"])
    assert response.status_code == 422, response.text
    assert response.json()["type"] == "/problems/validation-error"


async def test_a_name_with_a_private_answer_is_refused():
    for answer in ("64:ff9b::7f00:1", "10.0.0.1", "2002:a00:1::1"):
        resolver = Rebinding(answer, answer)
        with pytest.raises(BlockedAddress):
            await resolve_checked("hooks.test", 443, allow_private=False, resolve=resolver)
    public = await resolve_checked(
        "hooks.test", 443, allow_private=False, resolve=Rebinding("1.1.1.1", "1.1.1.1")
    )
    assert str(public) == "1.1.1.1"


async def test_delivery_goes_to_the_address_that_was_resolved(client, staff, form_key, runtime):
    """The name resolves once per delivery; a rebinding answer never gets a connection."""
    public, internal = Receiver(), Receiver()
    with serving(public.app, "127.0.0.1") as port, serving(internal.app, "127.0.0.2", port):
        url = f"http://hooks.test:{port}/hook"
        hook = await client.post(
            "/v1/webhooks",
            json={"url": url, "events": ["request.received"]},
            headers=staff["admin"],
        )
        assert hook.status_code == 201, hook.text
        body = {"kind": "access", "subject": {"email": "pin@example.no"}}
        assert (await client.post("/v1/requests", json=body, headers=form_key)).status_code == 201
        dns = Rebinding("127.0.0.1", "127.0.0.2")
        assert await webhook_delivery.deliver_due(runtime, resolve=dns) == 1
    assert dns.lookups == ["hooks.test"]
    assert len(public.received) == 1 and internal.received == []
    assert public.received[0]["headers"]["host"] == f"hooks.test:{port}"


async def test_delivery_to_a_name_now_resolving_to_nat64_loopback_is_blocked(
    client, staff, form_key, runtime
):
    receiver = Receiver()
    with serving(receiver.app, "127.0.0.1") as port:
        url = f"http://hooks.test:{port}/hook"
        hook = (
            await client.post(
                "/v1/webhooks",
                json={"url": url, "events": ["request.received"]},
                headers=staff["admin"],
            )
        ).json()
        body = {"kind": "access", "subject": {"email": "pin@example.no"}}
        await client.post("/v1/requests", json=body, headers=form_key)
        runtime.settings = runtime.settings.model_copy(update={"webhooks_allow_private": False})
        dns = Rebinding("64:ff9b::7f00:1", "64:ff9b::7f00:1")
        assert await webhook_delivery.deliver_due(runtime, resolve=dns) == 1
    assert receiver.received == []
    log = await client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=staff["admin"])
    assert log.json()["items"][0]["last_error"] == "BlockedAddress"


def _certificates(tmp_path: Path, name: str) -> tuple[Path, Path, ssl.SSLContext]:
    """A throwaway CA and a server certificate for ``name``; the client trusts only the CA."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    trust = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return cert_file, key_file, trust


@pytest.mark.parametrize(("served_name", "ok"), [("hooks.test", True), ("other.test", False)])
async def test_tls_checks_the_hostname_while_connecting_to_the_pinned_address(
    tmp_path, served_name, ok
):
    cert, key, trust = _certificates(tmp_path, served_name)
    receiver = Receiver()
    config = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
    with serving(receiver.app, "127.0.0.1", **config) as port:
        async with pinned_client(
            allow_private=True,
            timeout=5,
            resolve=Rebinding("127.0.0.1", "127.0.0.1"),
            inner=httpx.AsyncHTTPTransport(verify=trust),
        ) as http:
            url = f"https://hooks.test:{port}/hook"
            if ok:
                assert (await http.post(url, content=b"{}")).status_code == 204
                assert receiver.received[0]["headers"]["host"] == f"hooks.test:{port}"
            else:  # the certificate is for another name: refused, though the address is right
                with pytest.raises(httpx.ConnectError):
                    await http.post(url, content=b"{}")


async def test_deliveries_queued_before_a_pause_wait_for_the_resume(
    client, staff, form_key, runtime
):
    receiver = Receiver()
    admin = staff["admin"]
    with serving(receiver.app, "127.0.0.1") as port:
        url = f"http://127.0.0.1:{port}/hook"
        hook = (await client.post("/v1/webhooks", json={"url": url}, headers=admin)).json()
        body = {"kind": "access", "subject": {"email": "hook@example.no"}}
        await client.post("/v1/requests", json=body, headers=form_key)  # queued now
        path = f"/v1/webhooks/{hook['id']}"
        await client.patch(path, json={"active": False}, headers=admin)
        assert await webhook_delivery.deliver_due(runtime) == 0
        await client.patch(path, json={"active": True}, headers=admin)
        assert await webhook_delivery.deliver_due(runtime) == 1
    assert len(receiver.received) == 1


async def _actions(runtime) -> list[str]:
    async with runtime.db.session() as session:
        return [e.action for e in await session.exec(select(AuditEvent).order_by(AuditEvent.id))]


async def test_pause_resume_rotate_and_delete(client, staff, form_key, runtime):
    receiver = Receiver()
    admin = staff["admin"]
    with serving(receiver.app, "127.0.0.1") as port:
        url = f"http://127.0.0.1:{port}/hook"
        created = await client.post(
            "/v1/webhooks", json={"url": url, "events": ["request.received"]}, headers=admin
        )
        hook = created.json()
        path = f"/v1/webhooks/{hook['id']}"

        paused = await client.patch(path, json={"active": False}, headers=admin)
        assert paused.status_code == 200 and paused.json()["active"] is False
        assert paused.json()["secret"] is None
        body = {"kind": "access", "subject": {"email": "hook@example.no"}}
        await client.post("/v1/requests", json=body, headers=form_key)
        assert await webhook_delivery.deliver_due(runtime) == 0  # paused: nothing is sent
        assert receiver.received == []

        rotated = await client.patch(path, json={"rotate_secret": True}, headers=admin)
        assert rotated.status_code == 200
        new_secret = rotated.json()["secret"]
        assert new_secret.startswith("whsec_") and new_secret != hook["secret"]
        listing = await client.get("/v1/webhooks", headers=admin)
        assert new_secret not in listing.text

        resumed = await client.patch(path, json={"active": True}, headers=admin)
        assert resumed.json()["active"] is True
        assert await webhook_delivery.deliver_due(runtime) == 0  # events while paused: none
        await client.post("/v1/requests", json=body, headers=form_key)
        assert await webhook_delivery.deliver_due(runtime) == 1
        message = receiver.received[0]
        Webhook(new_secret).verify(message["body"], message["headers"])
        with pytest.raises(Exception, match="(?i)signature"):
            Webhook(hook["secret"]).verify(message["body"], message["headers"])

        gone = await client.delete(path, headers=admin)
        assert gone.status_code == 204
        assert (await client.get("/v1/webhooks", headers=admin)).json()["items"] == []
        missing = await client.get(f"{path}/deliveries", headers=admin)
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        await client.post("/v1/requests", json=body, headers=form_key)
        assert await webhook_delivery.deliver_due(runtime) == 0
    actions = await _actions(runtime)
    for action in ("webhook.paused", "webhook.secret_rotated", "webhook.resumed"):
        assert action in actions
    assert actions.index("webhook.deleted") > actions.index("webhook.resumed")


async def test_patch_and_delete_of_an_unknown_subscription_are_404(client, staff):
    admin = staff["admin"]
    assert (await client.patch("/v1/webhooks/wh_nope", json={}, headers=admin)).status_code == 404
    assert (await client.delete("/v1/webhooks/wh_nope", headers=admin)).status_code == 404
    bad = await client.patch("/v1/webhooks/wh_nope", json={"url": "x"}, headers=admin)
    assert bad.status_code == 422
