"""A demo-like world for identity tests: the demo's people in every built-in connector kind
(SQLite CRM and invoicing, a chat API, an IMAP mailbox and an Elhub-style registry on
loopback, the paper archive), a real OpenID issuer, and helpers that drive requests through
the HTTP API as a website form and staff would."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from dataclasses import dataclass
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.connectors.loader import load_registry
from app.demo.config import secret_environment, write_connectors_file
from app.demo.data import DemoPaths, create_databases
from app.demo.peers import DemoPeers, DemoSecrets, running_peers
from app.demo.people import KARI, OLA, DemoPerson
from app.jobs.runner import Worker
from app.runtime import Runtime
from app.security import IdTokenVerifier
from app.services.recipient_directory import load_directory
from tests.security.oidc_issuer import Issuer

VICTIM = KARI
REQUESTER = OLA


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    issuer = Issuer()
    with issuer.served():
        yield issuer


@dataclass
class World:
    rt: Runtime
    peers: DemoPeers
    paths: DemoPaths
    issuer: Issuer
    client: httpx.AsyncClient
    form: dict[str, str]
    staff: dict[str, dict[str, str]]
    worker: Worker

    # ----- filing and verifying, as a form and staff do -----

    async def file(self, subject: dict[str, Any], kind: str = "access", **body: Any) -> Any:
        payload = {"kind": kind, "subject": subject, "language": "en"} | body
        headers = self.staff["operator"] if "verification" in body else self.form
        return await self.client.post("/v1/requests", json=payload, headers=headers)

    async def confirm_code(self, request_id: str, email: str) -> Any:
        response = await self.client.post(
            f"/v1/requests/{request_id}/verification",
            json={"code": self.code_sent_to(email)},
            headers=self.form,
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def by_email_code(
        self, subject: dict[str, Any], kind: str = "access", **body: Any
    ) -> str:
        """File from the form and give back the code the requester's own mailbox got."""
        created = await self.file(subject, kind, **body)
        assert created.status_code == 201, created.text
        request_id = str(created.json()["id"])
        await self.confirm_code(request_id, subject["email"])
        return request_id

    def token(self, person: DemoPerson | None = None, **claims: Any) -> str:
        base: dict[str, Any] = {"sub": f"sub-{person.customer_no}" if person else "sub-none"}
        base["pid"] = person.national_id if person else None
        return self.issuer.token(**(base | claims))

    # ----- running and finishing -----

    async def view(self, request_id: str) -> Any:
        response = await self.client.get(
            f"/v1/requests/{request_id}", headers=self.staff["operator"]
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def finish(self, request_id: str) -> Any:
        """Run the tasks; an operator closes the paper archive and goes on without systems
        that wait for a stronger proof; the request completes."""
        await self.worker.run_until_idle()
        view = await self.view(request_id)
        for task in view["tasks"]:
            path = f"/v1/requests/{request_id}/tasks/{task['id']}"
            if task["status"] == "manual":
                answers = dict.fromkeys(task["checklist"]["items"], True)
                response = await self.client.post(
                    f"{path}/complete", json={"answers": answers}, headers=self.staff["operator"]
                )
                assert response.status_code == 200, response.text
            elif task["status"] == "needs_stronger_identity":
                response = await self.client.post(
                    f"{path}/skip",
                    json={"note": "the person did not log in"},
                    headers=self.staff["operator"],
                )
                assert response.status_code in (200, 409), response.text  # 409: done with a sibling
        await self.worker.run_until_idle()
        view = await self.view(request_id)
        assert view["status"] == "completed", [(t["connector"], t["status"]) for t in view["tasks"]]
        return view

    async def report(self, request_id: str) -> Any:
        response = await self.client.get(
            f"/v1/requests/{request_id}/report", headers=self.staff["auditor"]
        )
        assert response.status_code == 200, response.text
        return response.json()

    # ----- what the systems hold -----

    def crm_rows(self, person: DemoPerson) -> list[Any]:
        with closing(sqlite3.connect(self.paths.crm_db)) as conn:
            return conn.execute(
                "SELECT email, phone, name FROM customers WHERE customer_no = ?",
                (person.customer_no,),
            ).fetchall()

    def invoices(self, person: DemoPerson) -> int:
        with closing(sqlite3.connect(self.paths.invoicing_db)) as conn:
            row = conn.execute(
                "SELECT count(*) FROM customers WHERE email = ?", (person.email,)
            ).fetchone()
            return int(row[0])

    def chat_contacts(self, person: DemoPerson) -> int:
        return sum(
            1 for c in self.peers.intercom.contacts.values() if c.get("email") == person.email
        )

    # ----- letters -----

    def mails_to(self, address: str) -> list[Any]:
        folder = Path(self.rt.settings.outbox_dir)
        messages = [
            message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(folder.glob("*.eml"))
        ]
        return [m for m in messages if m["To"] == address]

    def code_sent_to(self, address: str) -> str:
        for message in reversed(self.mails_to(address)):
            match = re.search(r"code is (\d{6})", message.get_content())
            if match:
                return match.group(1)
        raise AssertionError(f"no code was sent to {address}")


def markers(person: DemoPerson) -> list[str]:
    """Strings that only this person's data contains."""
    assert person.national_id is not None
    return [person.email, person.phone, person.national_id, person.name, person.address]


def leaked(person: DemoPerson, data: Any) -> list[str]:
    text = json.dumps(data, ensure_ascii=False)
    return [m for m in markers(person) if m in text]


@pytest.fixture
async def world(
    runtime: Runtime,
    client: httpx.AsyncClient,
    form_key: dict[str, str],
    staff: dict[str, dict[str, str]],
    worker: Worker,
    issuer: Issuer,
    tmp_path: Path,
) -> AsyncIterator[World]:
    secrets = DemoSecrets.generate()
    paths = DemoPaths.under(tmp_path / "systems")
    create_databases(paths, reset=True)
    with running_peers(secrets) as peers:
        connectors_file = write_connectors_file(paths, peers)
        environ = dict(os.environ) | secret_environment(secrets)
        runtime.connectors = load_registry(connectors_file, strict=True, environ=environ)
        runtime.recipients = load_directory(connectors_file)
        settings = runtime.settings.model_copy(
            update={"oidc_issuer": issuer.url, "oidc_audience": issuer.audience}
        )
        runtime.id_tokens = IdTokenVerifier(settings)
        try:
            yield World(runtime, peers, paths, issuer, client, form_key, staff, worker)
        finally:
            await runtime.connectors.aclose()
