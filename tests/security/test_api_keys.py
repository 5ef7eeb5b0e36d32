"""Form API keys can be listed, revoked and rotated; a revoked key is refused at once, on
every replica; secrets are shown once; every action is audited."""

from __future__ import annotations

import json
import os
from datetime import timedelta

import httpx

from app.db.engine import Database
from app.domain.audit import AuditKey
from app.domain.requests import Role
from app.infra.crypto import DataCipher
from app.infra.mail import Mailer
from app.main import create_app
from app.runtime import Runtime
from app.security import StaffTokenVerifier, issue_local_token
from tests.conftest import AUDIT_KEY
from tests.test_smoke_serve import run

FILE = {"kind": "access", "subject": {"email": "ola@example.no"}}


async def new_key(client, staff, name: str = "website") -> dict:
    response = await client.post("/v1/apikeys", json={"name": name}, headers=staff["admin"])
    assert response.status_code == 201, response.text
    return response.json()


async def file_with(client, key: str) -> int:
    response = await client.post("/v1/requests", json=FILE, headers={"X-API-Key": key})
    return response.status_code


async def test_list_shows_no_secret_and_last_use_to_the_minute(client, staff, clock):
    created = await new_key(client, staff)
    assert created["key"].startswith(f"ik_{created['prefix']}_")
    listed = await client.get("/v1/apikeys", headers=staff["admin"])
    assert created["key"] not in listed.text
    [item] = listed.json()["items"]
    assert "key" not in item and "key_hash" not in item
    assert (item["status"], item["last_used_at"]) == ("active", None)

    assert await file_with(client, created["key"]) == 201
    first = (await client.get("/v1/apikeys", headers=staff["admin"])).json()["items"][0]
    assert first["last_used_at"] is not None
    clock.advance(timedelta(seconds=30))
    assert await file_with(client, created["key"]) == 201
    same = (await client.get("/v1/apikeys", headers=staff["admin"])).json()["items"][0]
    assert same["last_used_at"] == first["last_used_at"]  # not written on every call
    clock.advance(timedelta(seconds=31))
    assert await file_with(client, created["key"]) == 201
    later = (await client.get("/v1/apikeys", headers=staff["admin"])).json()["items"][0]
    assert later["last_used_at"] > first["last_used_at"]


async def test_revoke_and_rotate_are_audited_and_take_effect_at_once(client, staff):
    created = await new_key(client, staff)
    other = await new_key(client, staff, "partner")
    rotated = await client.post(f"/v1/apikeys/{created['id']}/rotate", headers=staff["admin"])
    assert rotated.status_code == 200
    assert rotated.json()["id"] == created["id"]
    new_secret = rotated.json()["key"]
    assert new_secret != created["key"]
    assert await file_with(client, created["key"]) == 401
    assert await file_with(client, new_secret) == 201

    revoked = await client.post(f"/v1/apikeys/{created['id']}/revoke", headers=staff["admin"])
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked" and "key" not in revoked.json()
    assert await file_with(client, new_secret) == 401
    assert await file_with(client, other["key"]) == 201  # only that key

    again = await client.post(f"/v1/apikeys/{created['id']}/revoke", headers=staff["admin"])
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    again = await client.post(f"/v1/apikeys/{created['id']}/rotate", headers=staff["admin"])
    assert again.status_code == 409
    missing = await client.post("/v1/apikeys/key_nope/revoke", headers=staff["admin"])
    assert missing.status_code == 404

    page = (await client.get("/v1/audit", headers=staff["auditor"])).json()
    actions = [(e["action"], e["actor"], e["detail"]) for e in page["items"]]
    assert ("apikey.rotated", "staff:admin-1", {"key_id": created["id"]}) in actions
    assert ("apikey.revoked", "staff:admin-1", {"key_id": created["id"]}) in actions
    assert new_secret not in json.dumps(page)


async def test_only_admins_manage_keys(client, staff, form_key):
    created = await new_key(client, staff)
    calls = [
        ("GET", "/v1/apikeys"),
        ("POST", "/v1/apikeys"),
        ("POST", f"/v1/apikeys/{created['id']}/revoke"),
        ("POST", f"/v1/apikeys/{created['id']}/rotate"),
    ]
    for method, url in calls:
        body = {"name": "x"} if method == "POST" else None
        for role in ("operator", "approver", "auditor"):
            response = await client.request(method, url, json=body, headers=staff[role])
            assert response.status_code == 403, (url, role)
        assert (await client.request(method, url, json=body, headers=form_key)).status_code == 403
        assert (await client.request(method, url, json=body)).status_code == 401


async def test_a_key_revoked_on_one_replica_is_refused_by_another(
    settings, database_url, runtime, clock
):
    """Two app instances, each with its own engine and pool, on the same database."""

    def replica() -> Runtime:
        assert settings.data_key is not None
        return Runtime(
            settings=settings,
            db=Database(database_url, audit_key=AuditKey(AUDIT_KEY)),
            clock=clock,
            cipher=DataCipher(settings.data_key.get_secret_value()),
            mailer=Mailer(sender=settings.mail_from, smtp_url=None, outbox=settings.outbox_dir),
            tokens=StaffTokenVerifier(settings),
        )

    token = issue_local_token(settings, subject="admin-1", roles=[Role.admin])
    admin = {"Authorization": f"Bearer {token}"}
    one, two = replica(), replica()
    try:
        async with (
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=create_app(runtime=one)), base_url="http://a"
            ) as a,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=create_app(runtime=two)), base_url="http://b"
            ) as b,
        ):
            key = (await a.post("/v1/apikeys", json={"name": "web"}, headers=admin)).json()
            assert await file_with(b, key["key"]) == 201  # replica two has seen the key
            assert (await a.post(f"/v1/apikeys/{key['id']}/revoke", headers=admin)).is_success
            assert await file_with(b, key["key"]) == 401
            rotated = await new_key(a, {"admin": admin}, "other")
            assert await file_with(b, rotated["key"]) == 201
            fresh = (await a.post(f"/v1/apikeys/{rotated['id']}/rotate", headers=admin)).json()
            assert await file_with(b, rotated["key"]) == 401
            assert await file_with(b, fresh["key"]) == 201
    finally:
        await one.db.dispose()
        await two.db.dispose()


def test_the_command_line_lists_revokes_and_rotates(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("INNSYN_")}
    env |= {"INNSYN_VAR_DIR": str(tmp_path / "var")}  # development: keys generated there
    run(env, "migrate")
    first = run(env, "apikey", "create", "--name", "website").splitlines()[-1]
    run(env, "apikey", "create", "--name", "partner")
    [listed] = [json.loads(run(env, "apikey", "list", "--json"))]
    ids = {k["name"]: k["id"] for k in listed["items"]}
    assert first not in json.dumps(listed)
    new = run(env, "apikey", "rotate", ids["website"]).splitlines()[-1]
    assert new.startswith("ik_") and new != first
    assert "revoked" in run(env, "apikey", "revoke", ids["partner"])
    text = run(env, "apikey", "list")
    assert "revoked" in text and "active" in text and new not in text
    checkpoint = run(env, "audit", "checkpoint").splitlines()[-1]
    assert checkpoint.startswith("iac1.")
    verified = run(env, "audit", "verify", "--checkpoint", checkpoint)
    assert verified.splitlines()[-1].startswith("verified")
