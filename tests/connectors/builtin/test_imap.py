"""The imap connector against real IMAP servers: Dovecot and the in-process pymap peer.

Every test here runs on both (the ``account`` fixture is parametrized over them).
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage

import pytest
from innsyn_peers import imap as imap_peer

from app.connectors.builtin.imap import ImapConnector
from app.connectors.errors import ConnectorConfigError, ConnectorTransientError
from app.connectors.protocol import ErasureOutcome, FileStream, SubjectRef
from app.connectors.testing import ConnectorContract
from tests.connectors.builtin.test_imap_support import (
    Account,
    account,
    dovecot_account,
    mail,
    pymap_account,
)

__all__ = ["account", "dovecot_account", "pymap_account"]  # fixtures used below

KARI, OLA = "kari.nordmann@example.com", "ola.hansen@example.com"
CATEGORY = "email_correspondence"


def kari_ref() -> SubjectRef:
    return SubjectRef(request_id="r-kari", emails=[KARI.upper()], name="Kari Nordmann")


def seed_kari(account: Account) -> None:
    me = account.user
    account.append(mail(sender=f"Kari Nordmann <{KARI}>", to=me, subject="Faktura"))
    account.append(mail(sender=me, to=KARI, subject="Re: Faktura"), folder="Sent")
    account.append(mail(sender="post@example.org", to=me, cc=KARI, subject="Kopi"))
    account.append(mail(sender=me, to="styret@example.org", bcc=KARI, subject="Blindkopi"), "Sent")
    account.append(mail(sender=KARI, to=me, subject="Gammel sak"), folder="Arkiv/2025")


def seed_others(account: Account) -> None:
    me = account.user
    account.append(mail(sender=f"Ola Hansen <{OLA}>", to=me, subject="Måler"))
    # IMAP SEARCH matches substrings: these must never count as Kari's.
    account.append(mail(sender=f"s{KARI}", to=me, subject="Lookalike"))
    account.append(mail(sender=me, to=f"{KARI}.example.net", subject="Longer"), folder="Sent")


class TestImapContract(ConnectorContract):
    kind = "imap"

    @pytest.fixture
    async def connector(self, account: Account) -> AsyncIterator[ImapConnector]:
        connector = account.connector()
        yield connector
        await connector.aclose()

    @pytest.fixture
    def seed_subject(self, account: Account) -> SubjectRef:
        seed_kari(account)
        return kari_ref()

    @pytest.fixture
    def other_subject(self, account: Account) -> SubjectRef:
        seed_others(account)
        return SubjectRef(request_id="r-ola", emails=[OLA], name="Ola Hansen")

    @pytest.fixture
    def broken_connector(self, account: Account) -> ImapConnector:
        return account.connector(password="wrong-password-1")

    @pytest.fixture
    def expected_categories(self) -> set[str]:
        return {CATEGORY}


async def test_collect_finds_from_to_cc_and_bcc_in_every_folder(account: Account) -> None:
    seed_kari(account)
    seed_others(account)
    records = (await account.connector().collect(kari_ref())).records
    by_subject = {r.data["subject"]: r for r in records}
    assert sorted(by_subject) == ["Blindkopi", "Faktura", "Gammel sak", "Kopi", "Re: Faktura"]
    assert {r.data["folder"] for r in records} == {"INBOX", "Sent", "Arkiv/2025"}
    faktura = by_subject["Faktura"]
    folder, validity, uid = faktura.id.rsplit("/", 2)
    assert (folder, validity) == ("INBOX", account.uidvalidity("INBOX")) and uid.isdigit()
    assert by_subject["Gammel sak"].id.startswith("Arkiv/2025/")
    assert faktura.data["from"] == f"Kari Nordmann <{KARI}>"
    assert faktura.data["to"] == account.user
    assert faktura.data["date"] == "Mon, 02 Feb 2026 09:30:00 +0100"
    assert faktura.data["body"] == "Hei!" and faktura.data["body_truncated"] is False


async def test_erase_deletes_exactly_the_persons_messages(account: Account) -> None:
    seed_kari(account)
    seed_others(account)
    connector = account.connector()
    first = await connector.erase(kari_ref(), [CATEGORY])
    assert [(e.outcome, e.count) for e in first.categories] == [(ErasureOutcome.erased, 5)]
    assert account.subjects("INBOX") == ["Lookalike", "Måler"]
    assert account.subjects("Sent") == ["Longer"]
    assert account.subjects("Arkiv/2025") == []
    second = await connector.erase(kari_ref(), [CATEGORY])
    assert [(e.outcome, e.count) for e in second.categories] == [(ErasureOutcome.not_found, 0)]


async def test_erase_without_uidplus_uses_expunge(account: Account) -> None:
    class NoUidplus(ImapConnector):
        def _erase(self, imap, wanted):  # type: ignore[no-untyped-def]
            imap.capabilities = tuple(c for c in imap.capabilities if c != "UIDPLUS")
            return super()._erase(imap, wanted)

    seed_kari(account)
    seed_others(account)
    result = await NoUidplus(name="mailbox", config=account.config()).erase(kari_ref(), [CATEGORY])
    assert result.categories[0].count == 5
    assert account.subjects("INBOX") == ["Lookalike", "Måler"]


async def test_configured_and_excluded_mailboxes(account: Account) -> None:
    seed_kari(account)
    only_sent = account.connector(mailboxes=["Sent"])
    assert {r.data["subject"] for r in (await only_sent.collect(kari_ref())).records} == {
        "Re: Faktura",
        "Blindkopi",
    }
    without = account.connector(exclude_mailboxes=["sent", "Arkiv/2025"])
    assert {r.data["folder"] for r in (await without.collect(kari_ref())).records} == {"INBOX"}
    missing = account.connector(mailboxes=["INBOX", "Nope"])
    with pytest.raises(ConnectorConfigError, match="do not exist"):
        await missing.check()


async def test_body_is_the_text_part_and_is_cut(account: Account) -> None:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = KARI, account.user, "Vedlegg"
    message.set_content("Hei, se vedlegget. " * 5)
    message.add_alternative("<p>Hei, <b>se</b> vedlegget.</p>", subtype="html")
    message.add_attachment(b"%PDF-1.4 " + b"x" * 30_000, maintype="application",
                           subtype="pdf", filename="faktura.pdf")  # fmt: skip
    account.append(message)
    account.append(mail(sender=KARI, to=account.user, subject="Html",
                        body="x").as_bytes().replace(b"text/plain", b"text/html")
                   .replace(b"\n\nx", b"\n\n<p>Bare&nbsp;HTML</p>"))  # fmt: skip
    records = (await account.connector(max_body_chars=30).collect(kari_ref())).records
    by_subject = {r.data["subject"]: r.data for r in records}
    vedlegg = by_subject["Vedlegg"]
    assert vedlegg["body"] == ("Hei, se vedlegget. " * 5)[:30] and vedlegg["body_truncated"]
    assert vedlegg["size"] > 30_000
    by_name = {f.name: f for r in records if r.data["subject"] == "Vedlegg" for f in r.files}
    assert by_name.keys() == {"faktura.pdf", "Vedlegg.txt"}  # the cut text, whole, as a file
    whole = (await content(by_name["Vedlegg.txt"])).replace(b"\r\n", b"\n")
    assert whole.strip() == ("Hei, se vedlegget. " * 5).strip().encode()
    assert by_subject["Html"]["body"] == "Bare\xa0HTML"
    partial = (await account.connector(fetch_bytes=4096).collect(kari_ref())).records
    cut = next(r.data for r in partial if r.data["subject"] == "Vedlegg")
    # The message came in part, the text whole: a big attachment does not make the text cut.
    assert cut["body"] == ("Hei, se vedlegget. " * 5).strip() and cut["body_truncated"] is False


async def content(file: FileStream) -> bytes:
    return b"".join([piece async for piece in file.open()])


async def test_attachments_stream_as_files_with_their_bytes(account: Account) -> None:
    scan = random.Random(7).randbytes(2_500_000)  # several ranges of 1 MiB, base64 on the wire
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = KARI, account.user, "Skanning"
    message.set_content("Her er skanningen.")
    message.add_attachment(scan, maintype="image", subtype="png", filename="skann æøå.png")
    message.add_attachment("Linje én\n" * 2000, subtype="plain", filename="notat.txt",
                           cte="quoted-printable")  # fmt: skip
    account.append(message)
    [record] = (await account.connector(part_chunk_bytes=1_048_576).collect(kari_ref())).records
    assert "attachments" not in record.data
    files = {f.name: f for f in record.files}
    assert files.keys() == {"skann æøå.png", "notat.txt"}
    assert files["skann æøå.png"].media_type == "image/png"
    assert await content(files["skann æøå.png"]) == scan
    note = (await content(files["notat.txt"])).replace(b"\r\n", b"\n")
    assert note.decode().rstrip("\n") == ("Linje én\n" * 2000).rstrip("\n")  # pymap adds one
    streamed = [len(p) async for p in files["skann æøå.png"].open()]
    assert len(streamed) >= 3 and max(streamed) <= 1_048_576  # in ranges, never whole


async def test_non_ascii_folder_names_are_decoded(account: Account) -> None:
    account.append(mail(sender=KARI, to=account.user, subject="Spam?"), folder="S&APg-ppelpost")
    [record] = (await account.connector().collect(kari_ref())).records
    assert record.data["folder"] == "Søppelpost"
    assert record.id.startswith("S&APg-ppelpost/")
    only = account.connector(mailboxes=["Søppelpost"])
    assert len((await only.collect(kari_ref())).records) == 1


async def test_wrong_password_is_a_config_error_without_the_secret(account: Account) -> None:
    connector = account.connector(password="hunter2-wrong")
    with pytest.raises(ConnectorConfigError) as raised:
        await connector.collect(kari_ref())
    assert raised.value.message == "credentials rejected"
    texts = [str(raised.value), raised.value.internal_message, repr(connector)]
    texts.append(repr(connector.config))
    assert not [t for t in texts if "hunter2-wrong" in t]


async def test_tls_against_a_plain_port_is_a_config_error(account: Account) -> None:
    connector = account.connector(security="ssl", verify_tls=False)
    with pytest.raises(ConnectorConfigError, match="TLS"):
        await connector.check()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A server that accepts connections and never says anything."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()[1]


async def test_silent_server_is_transient(silent_port: int) -> None:
    account = Account("silent", "127.0.0.1", silent_port, "x", "y-password")
    with pytest.raises(ConnectorTransientError, match="did not answer in time"):
        await account.connector(timeout_seconds=0.2).check()


async def test_unreachable_server_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    account = Account("none", "127.0.0.1", port, "x", "y-password")
    with pytest.raises(ConnectorTransientError, match="could not reach"):
        await account.connector().check()


async def test_calls_may_overlap(account: Account) -> None:
    seed_kari(account)
    connector = account.connector()
    results = await asyncio.gather(*(connector.collect(kari_ref()) for _ in range(3)))
    assert [len(r.records) for r in results] == [5, 5, 5]


async def test_demo_mailbox(pymap_account: Account) -> None:
    pymap_account.clear()
    imap_peer.seed_demo(
        pymap_account.host, pymap_account.port, pymap_account.user, pymap_account.password
    )
    kari = SubjectRef(request_id="r", emails=["kari.nordmann@example.com"])
    assert len((await pymap_account.connector().collect(kari)).records) == 3
    per = SubjectRef(request_id="r", emails=["per.olsen@example.com"])
    [record] = (await pymap_account.connector().collect(per)).records
    assert record.data["folder"] == "Arkiv"
    pymap_account.clear()
