"""Files of the answer (mail attachments, scans): stored in sealed chunks as they stream,
listed in every format, and delivered in a zip that is streamed to the person."""

from __future__ import annotations

import asyncio
import io
import random
import time
import zipfile
from collections.abc import AsyncIterator, Sequence
from email.message import EmailMessage
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel
from sqlmodel import select

from app.connectors.errors import ConnectorPermanentError, ConnectorTransientError
from app.connectors.protocol import (
    Capability,
    CollectResult,
    DataCategory,
    FileStream,
    Health,
    Record,
    SubjectRef,
)
from app.connectors.registry import ConnectorInstance, ConnectorRegistry
from app.db.models import CollectedFile, CollectedFileChunk
from app.services import collected_files
from tests.connectors.builtin.test_imap_support import Account, pymap_account
from tests.test_smoke_serve import run, serving

__all__ = ["pymap_account"]  # a fixture used below

KARI = "kari.nordmann@example.no"
SCAN = random.Random(15).randbytes(2_300_000)  # three chunks of 1 MiB


class Scanner:
    """A system whose one record has a scan, streamed in small pieces; it can be told to
    break off half-way (a connection lost mid-file) the first ``breaks`` times."""

    kind: ClassVar[str] = "scanner"
    config_model: ClassVar[type[BaseModel]] = BaseModel
    capabilities: ClassVar[frozenset[Capability]] = frozenset({Capability.collect})

    def __init__(
        self, breaks: int = 0, pause: float = 0.0, stall: float = 0.0, transient: bool = False
    ) -> None:
        self.name = "scanner"
        self.breaks, self.pause, self.stall = breaks, pause, stall
        self.transient = transient  # a break that is worth another try

    def categories(self) -> Sequence[DataCategory]:
        return [
            DataCategory(
                name="scans",
                description="Scanned letters",
                purpose="Customer service",
                legal_basis="GDPR 6(1)(b) contract",
                retention="3 years",
            )
        ]

    async def check(self) -> Health:
        return Health(ok=True)

    async def aclose(self) -> None:
        return None

    async def collect(self, subject: SubjectRef) -> CollectResult:  # noqa: ARG002 - one person
        broken = self.breaks > 0
        self.breaks -= 1

        async def content() -> AsyncIterator[bytes]:
            for start in range(0, len(SCAN), 100_000):
                if broken and start >= 1_500_000:
                    error = ConnectorTransientError if self.transient else ConnectorPermanentError
                    raise error("the scanner went away")
                await asyncio.sleep(self.stall if start == 1_000_000 else self.pause)
                yield SCAN[start : start + 100_000]

        scan = FileStream(name="brev.png", media_type="image/png", size=len(SCAN), open=content)
        record = Record(category="scans", id="1", data={"title": "Brev"}, files=[scan])
        return CollectResult(records=[record])


async def filed(client, staff, language: str = "nb") -> str:
    created = await client.post(
        "/v1/requests",
        json={
            "kind": "access",
            "language": language,
            "subject": {"email": KARI},
            "verification": {"method": "staff", "note": "known customer"},
        },
        headers=staff["operator"],
    )
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def scanner(timeout: float = 30.0, **behaviour: Any) -> ConnectorRegistry:
    connector = Scanner(**behaviour)
    return ConnectorRegistry.of(
        [ConnectorInstance("scanner", "scanner", connector, timeout_seconds=timeout)]
    )


async def test_a_half_written_file_is_never_listed(client, staff, runtime, worker):
    runtime.connectors = scanner(breaks=1)  # the stream breaks off after 1.5 MB
    request_id = await filed(client, staff)
    await worker.run_until_idle()
    async with runtime.db.session() as session:
        [half] = list(await session.exec(select(CollectedFile)))
        assert not half.complete
        assert len(list(await session.exec(select(CollectedFileChunk)))) == 1  # 1 MiB was in
        assert await collected_files.complete(runtime, session, request_id) == {}
    assert [p async for p in collected_files.content(runtime, half.id)] == []
    view = await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])
    assert [t["status"] for t in view.json()["tasks"]] == ["failed"]


async def test_the_next_attempt_removes_what_a_broken_one_left_half_written(
    client, staff, runtime, worker
):
    runtime.connectors = scanner(breaks=1, transient=True)
    request_id = await filed(client, staff)
    await worker.run_until_idle()
    view = await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])
    assert [(t["status"], t["attempts"]) for t in view.json()["tasks"]] == [("succeeded", 2)]
    async with runtime.db.session() as session:
        [kept] = list(await session.exec(select(CollectedFile)))
        assert kept.complete and kept.attempt == 2
        chunks = list(await session.exec(select(CollectedFileChunk)))
    assert {c.file_id for c in chunks} == {kept.id} and len(chunks) == 3


async def test_a_stored_file_is_listed_in_every_format_and_in_the_zip(
    client, staff, runtime, worker
):
    runtime.connectors = scanner()
    request_id = await filed(client, staff)
    await worker.run_until_idle()
    report = await client.get(f"/v1/requests/{request_id}/report", headers=staff["operator"])
    [category] = report.json()["systems"][0]["categories"]
    [listed] = category["attachments"]
    assert (listed["name"], listed["size"], listed["media_type"]) == (
        "brev.png",
        len(SCAN),
        "image/png",
    )
    assert listed["path"] == "files/scanner/scans/brev.png"
    async with runtime.db.session() as session:
        [row] = list(await session.exec(select(CollectedFile)))
    assert row.complete and row.chunks == 3
    assert "brev.png" not in row.name_ciphertext  # the name is sealed too
    got = await client.get(
        f"/v1/requests/{request_id}/report", params={"format": "zip"}, headers=staff["operator"]
    )
    with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
        assert archive.read(listed["path"]) == SCAN
        assert "scanner/scans.csv" in archive.namelist() and "data.json" in archive.namelist()
    page = await client.get(
        f"/v1/requests/{request_id}/report", params={"format": "html"}, headers=staff["operator"]
    )
    assert "brev.png (image/png, 2,3 MB): ligger som fil i zip-nedlastingen" in page.text


async def test_a_file_may_take_longer_than_the_timeout_but_may_not_stall(
    client, staff, runtime, worker
):
    runtime.connectors = scanner(timeout=0.3, pause=0.02)  # 23 pieces: ~0.5 s in all
    request_id = await filed(client, staff)
    await worker.run_until_idle()
    async with runtime.db.session() as session:
        assert len(await collected_files.complete(runtime, session, request_id)) == 1

    runtime.connectors = scanner(timeout=0.3, stall=1.0)  # one piece never comes in time
    request_id = await filed(client, staff)
    await worker.run_until_idle()
    view = await client.get(f"/v1/requests/{request_id}", headers=staff["operator"])
    [task] = view.json()["tasks"]
    assert task["error_kind"] == "timeout"
    async with runtime.db.session() as session:
        assert await collected_files.complete(runtime, session, request_id) == {}


async def test_a_withheld_item_takes_its_files_with_it(client, staff, runtime, worker):
    runtime.settings = runtime.settings.model_copy(update={"review_answers": True})
    runtime.connectors = scanner()
    request_id = await filed(client, staff)
    await worker.run_until_idle()
    url = f"/v1/requests/{request_id}"
    withheld = {
        "redactions": [
            {"system": "scanner", "category": "scans", "record": 0, "reason": "another person"}
        ]
    }
    released = await client.post(f"{url}/release", json=withheld, headers=staff["approver"])
    assert released.status_code == 200, released.text
    answer = (await client.get(f"{url}/report", headers=staff["operator"])).json()
    [category] = answer["systems"][0]["categories"]
    assert category["attachments"] == []
    got = await client.get(f"{url}/report", params={"format": "zip"}, headers=staff["operator"])
    with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
        assert not [n for n in archive.namelist() if n.startswith("files/")]


def _mail(account: Account) -> bytes:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = KARI, account.user, "Skanning"
    message.set_content("Her er skanningen og kvitteringen.")
    message.add_attachment(SCAN, maintype="image", subtype="png", filename="skann.png")
    message.add_attachment(b"%PDF-1.4 kvittering", maintype="application", subtype="pdf",
                           filename="kvittering.pdf")  # fmt: skip
    return bytes(message)


def _connectors(account: Account) -> str:
    return f"""connectors:
  - name: support
    kind: imap
    config:
      host: {account.host}
      port: {account.port}
      security: none
      username: {account.user}
      password: ${{TEST_IMAP_PASSWORD}}
"""


def _completed(base: str, staff: dict[str, str], request_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while True:
        view = httpx.get(f"{base}/v1/requests/{request_id}", headers=staff).json()
        if view["status"] == "completed":
            return dict(view)
        assert time.monotonic() < deadline, view["status"]
        time.sleep(0.2)


def test_mail_attachments_reach_the_person_in_a_streamed_zip(
    service_env, pymap_account: Account, tmp_path
):
    """A real ``innsyn serve`` collects from a real IMAP server and answers over HTTP."""
    account = pymap_account
    account.clear()
    account.append(_mail(account))
    connectors = tmp_path / "connectors.yaml"
    connectors.write_text(_connectors(account))
    env = service_env | {
        "INNSYN_CONNECTORS_FILE": str(connectors),
        "TEST_IMAP_PASSWORD": account.password,
    }
    run(env, "migrate")
    staff = {"Authorization": f"Bearer {run(env, 'token', '--role', 'operator')}"}
    try:
        with serving(env) as base:
            body = {
                "kind": "access",
                "language": "nb",
                "subject": {"email": KARI},
                "verification": {"method": "staff", "note": "known customer"},
            }
            created = httpx.post(f"{base}/v1/requests", json=body, headers=staff).json()
            _completed(base, staff, created["id"])
            status = httpx.get(
                f"{base}/v1/requests/{created['id']}/status",
                params={"token": created["status_token"]},
            ).json()
            link = f"{base}{status['download_url']}"
            answer = httpx.get(link, params={"format": "json"}).json()
            [category] = answer["systems"][0]["categories"]
            files = {a["name"]: a for a in category["attachments"]}
            assert files.keys() == {"skann.png", "kvittering.pdf"}
            assert files["skann.png"]["size"] == len(SCAN)
            assert files["kvittering.pdf"]["media_type"] == "application/pdf"
            with httpx.stream("GET", link, params={"format": "zip"}) as got:
                assert got.status_code == 200
                assert got.headers["content-type"] == "application/zip"
                assert "content-length" not in got.headers  # sent as it is made
                assert got.headers["transfer-encoding"] == "chunked"
                assert got.headers["cache-control"] == "no-store"
                pieces = got.iter_raw()
                first = next(pieces)
                assert first.startswith(b"PK\x03\x04") and len(first) < len(SCAN)
                whole = first + b"".join(pieces)
    finally:
        account.clear()
    with zipfile.ZipFile(io.BytesIO(whole)) as archive:
        assert archive.read(files["skann.png"]["path"]) == SCAN
        assert archive.read(files["kvittering.pdf"]["path"]) == b"%PDF-1.4 kvittering"
