"""``imap``: a mailbox (support@, post@, a person's work mailbox) over IMAP.

collect finds every message the person sent or received (From/To/Cc/Bcc), in all
selectable folders or the configured ones, and returns its headers and text body, with its
attachments as files streamed part by part (``imap_parts``: never a whole message in
memory); a body cut short is also handed over whole as a file. erase deletes exactly those
messages by UID. Each call opens its own connection in a worker
thread (stdlib ``imaplib``), so instances are safe to call concurrently and hold no socket
between requests.

IMAP SEARCH matches substrings (``FROM kari@x`` also finds ``bkari@x``), so every candidate
is checked against the parsed addresses before it is returned or deleted.
"""

from __future__ import annotations

import asyncio
import imaplib
import ssl
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from typing import ClassVar, Literal, TypeVar

import structlog
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from app.connectors.builtin import imap_parts as parts
from app.connectors.builtin import imap_wire as wire
from app.connectors.errors import ConnectorConfigError, ConnectorTransientError
from app.connectors.protocol import (
    Capability,
    CategoryErasure,
    CollectResult,
    DataCategory,
    ErasureOutcome,
    ErasureResult,
    FileStream,
    Health,
    Record,
    SubjectRef,
)

log = structlog.get_logger(__name__)
T = TypeVar("T")

DEFAULT_CATEGORY = DataCategory(
    name="email_correspondence",
    description="E-mails the person sent to us or received from us: date, sender, "
    "recipients, subject and text.",
    purpose="Answering and documenting correspondence with customers and others.",
    legal_basis="GDPR 6(1)(f) legitimate interest in handling and documenting correspondence",
    automated_decisions="none",
    transfers=[],
    retention="As long as the matter requires; see the mailbox's retention policy.",
    source="the data subject and our staff",
)


class ImapConfig(BaseModel):
    """One IMAP account; the password comes from the environment (``${VAR}``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(title="IMAP server host name")
    port: int | None = Field(default=None, description="Default: 993 with ssl, else 143")
    security: Literal["ssl", "starttls", "none"] = Field(
        default="ssl", description="'none' only for a server on loopback or a test"
    )
    verify_tls: bool = True
    ca_file: str | None = Field(default=None, description="CA bundle for a private CA")
    username: str
    password: SecretStr
    mailboxes: list[str] | None = Field(
        default=None, description="Folders to search (as shown to people); default: all"
    )
    exclude_mailboxes: list[str] = Field(default_factory=list)
    category: DataCategory = DEFAULT_CATEGORY
    max_body_chars: int = Field(default=20_000, ge=0, description="Longer bodies are cut")
    fetch_bytes: int = Field(
        default=512_000, ge=4096, description="At most this much of a message is downloaded"
    )
    timeout_seconds: float = Field(default=30.0, gt=0)
    batch_size: int = Field(default=200, ge=1, description="UIDs per FETCH command")
    fetch_budget_bytes: int = Field(
        default=8_000_000,
        ge=4096,
        description="At most this much message text per FETCH command (fewer UIDs if needed)",
    )
    part_chunk_bytes: int = Field(
        default=1_048_576, ge=4096, description="An attachment is downloaded in ranges this big"
    )


class ImapConnector:
    """Messages from or to the person's addresses; see the module docstring."""

    kind: ClassVar[str] = "imap"
    api_version: ClassVar[int] = 1
    config_model: ClassVar[type[BaseModel]] = ImapConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.collect, Capability.erase}
    )

    def __init__(self, name: str, config: ImapConfig) -> None:
        self.name = name
        self.config = config

    def __repr__(self) -> str:
        return f"ImapConnector(name={self.name!r}, host={self.config.host!r})"

    def categories(self) -> Sequence[DataCategory]:
        return (self.config.category,)

    async def aclose(self) -> None:
        """Nothing to close: every call opens and closes its own connection."""

    async def check(self) -> Health:
        folders = await self._run(self._folders_of_account)
        return Health(ok=True, detail=f"logged in; {len(folders)} folder(s) to search")

    async def collect(self, subject: SubjectRef) -> CollectResult:
        wanted = _addresses(subject)
        records = await self._run(lambda imap: self._collect(imap, wanted)) if wanted else []
        log.info("imap_collected", connector=self.name, records=len(records))
        return CollectResult(records=records)

    async def erase(self, subject: SubjectRef, categories: Sequence[str]) -> ErasureResult:
        """Deletes the person's messages (\\Deleted + UID EXPUNGE); a second run finds none."""
        name = self.config.category.name
        unknown = sorted(set(categories) - {name})
        if unknown:
            raise ConnectorConfigError(f"{self.name} has no categories {unknown}")
        if name not in categories:
            return ErasureResult()
        wanted = _addresses(subject)
        count = await self._run(lambda imap: self._erase(imap, wanted)) if wanted else 0
        log.info("imap_erased", connector=self.name, messages=count)
        outcome = ErasureOutcome.erased if count else ErasureOutcome.not_found
        return ErasureResult(
            categories=[CategoryErasure(category=name, outcome=outcome, count=count)]
        )

    # ----- blocking work, in a thread -----

    async def _run(self, work: Callable[[imaplib.IMAP4], T]) -> T:
        def call() -> T:
            with self._session() as imap:
                return work(imap)

        return await asyncio.to_thread(call)

    @contextmanager
    def _session(self) -> Iterator[imaplib.IMAP4]:
        """A logged-in connection, logged out (or at least closed) afterwards."""
        config = self.config
        with wire.classified("connect"):
            imap = self._connect()
        try:
            with wire.classified("LOGIN"):
                try:
                    imap.login(config.username, config.password.get_secret_value())
                except imaplib.IMAP4.abort:
                    raise
                except imaplib.IMAP4.error as exc:
                    raise wire.login_error(exc) from None
                typ, data = imap.capability()  # it may grow after login (UIDPLUS)
                wire.check(typ, "CAPABILITY", data)
                imap.capabilities = tuple(data[-1].decode().upper().split()) if data else ()
            yield imap
            with wire.classified("LOGOUT"):
                imap.logout()
        finally:
            if imap.state != "LOGOUT":
                with suppress(OSError):
                    imap.shutdown()

    def _connect(self) -> imaplib.IMAP4:
        config = self.config
        timeout = config.timeout_seconds
        if config.security == "ssl":
            return imaplib.IMAP4_SSL(
                config.host, config.port or 993, ssl_context=self._tls(), timeout=timeout
            )
        imap = imaplib.IMAP4(config.host, config.port or 143, timeout=timeout)
        if config.security == "starttls":
            try:
                imap.starttls(self._tls())
            except BaseException:
                imap.shutdown()
                raise
        return imap

    def _tls(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.config.ca_file)
        if not self.config.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _folders_of_account(self, imap: imaplib.IMAP4) -> list[wire.Folder]:
        with wire.classified("LIST"):
            typ, data = imap.list()
        wire.check(typ, "LIST", data)
        folders = wire.parse_list(data)
        excluded = {name.casefold() for name in self.config.exclude_mailboxes}
        if self.config.mailboxes is not None:
            listed = {f.name.casefold(): f for f in folders}
            missing = [m for m in self.config.mailboxes if m.casefold() not in listed]
            if missing:
                raise ConnectorConfigError(
                    f"{len(missing)} configured mailbox(es) do not exist on the server",
                    internal_message=f"missing mailboxes: {missing}",
                )
            folders = [listed[m.casefold()] for m in self.config.mailboxes]
        return [f for f in folders if f.name.casefold() not in excluded]

    def _select(self, imap: imaplib.IMAP4, folder: wire.Folder, *, readonly: bool) -> str:
        """Opens a folder; returns its UIDVALIDITY."""
        with wire.classified("SELECT"):
            typ, data = imap.select(wire.quote(folder.raw), readonly=readonly)
            wire.check(typ, "SELECT", data)
            _, validity = imap.response("UIDVALIDITY")
        return validity[0].decode() if validity and validity[0] else "0"

    def _matching(
        self, imap: imaplib.IMAP4, wanted: set[str], items: str
    ) -> Iterator[dict[int, tuple[int | None, bytes]]]:
        """UID -> (size, fetched bytes) of the selected folder's messages from/to ``wanted``,
        one FETCH at a time, so only one batch of message text is held at once."""
        candidates: set[int] = set()
        with wire.classified("UID SEARCH"):
            for address in sorted(wanted):
                typ, data = imap.uid("SEARCH", *wire.search_criteria(address))
                wire.check(typ, "UID SEARCH", data)
                candidates.update(int(u) for u in b" ".join(d for d in data if d).split())
        ordered = sorted(candidates)
        step = self.config.batch_size
        if "BODY.PEEK[]" in items:  # bodies: keep one answer within the budget
            step = max(1, min(step, self.config.fetch_budget_bytes // self.config.fetch_bytes))
        for start in range(0, len(ordered), step):
            batch = ordered[start : start + step]
            with wire.classified("UID FETCH"):
                typ, data = imap.uid("FETCH", wire.uid_set(batch), items)
            wire.check(typ, "UID FETCH", data)
            fetched = wire.parse_fetch(data)
            del data
            yield {
                uid: (size, raw)
                for uid, (size, raw) in fetched.items()
                if uid in candidates and wire.addresses(raw) & wanted
            }

    def _collect(self, imap: imaplib.IMAP4, wanted: set[str]) -> list[Record]:
        records: list[Record] = []
        items = f"(UID RFC822.SIZE BODY.PEEK[]<0.{self.config.fetch_bytes}>)"
        for folder in self._folders_of_account(imap):
            validity = self._select(imap, folder, readonly=True)
            for found in self._matching(imap, wanted, items):
                records += self._records(imap, folder, validity, found)
        return records

    def _records(
        self,
        imap: imaplib.IMAP4,
        folder: wire.Folder,
        validity: str,
        found: dict[int, tuple[int | None, bytes]],
    ) -> list[Record]:
        """One batch of matching messages as records, with their files to stream."""
        shapes = self._structures(imap, list(found))
        records = []
        for uid, (size, raw) in sorted(found.items()):
            text = parts.text_part(shapes[uid], "") if uid in shapes else None
            data = self._message_data(folder, size, raw, text)
            records.append(
                Record(
                    category=self.config.category.name,
                    id=f"{folder.raw}/{validity}/{uid}",
                    data=data,
                    files=self._files(folder, validity, uid, shapes.get(uid), data),
                )
            )
        return records

    def _structures(self, imap: imaplib.IMAP4, uids: list[int]) -> dict[int, list[object]]:
        """UID -> BODYSTRUCTURE of the selected folder's messages."""
        shapes: dict[int, list[object]] = {}
        for start in range(0, len(uids), self.config.batch_size):
            batch = sorted(uids)[start : start + self.config.batch_size]
            with wire.classified("UID FETCH"):
                typ, data = imap.uid("FETCH", wire.uid_set(batch), "(UID BODYSTRUCTURE)")
            wire.check(typ, "UID FETCH", data)
            shapes.update(parts.structures(data))
        return shapes

    def _files(
        self,
        folder: wire.Folder,
        validity: str,
        uid: int,
        shape: list[object] | None,
        data: dict[str, object],
    ) -> list[FileStream]:
        """The message's attachments, and its whole text when the body shown was cut."""
        if shape is None:
            return []
        found = parts.files(shape)
        if data["body_truncated"]:
            text = parts.text_part(shape, str(data.get("subject") or uid)[:80])
            found += [text] if text is not None else []
        return [
            FileStream(
                name=part.name,
                media_type=part.media_type,
                size=part.size,
                open=lambda part=part: self._stream(folder, validity, uid, part),
            )
            for part in found
        ]

    async def _stream(
        self, folder: wire.Folder, validity: str, uid: int, part: parts.Part
    ) -> AsyncIterator[bytes]:
        """One part's bytes, fetched in ranges on a connection of its own, decoded as they
        come; the folder must still be the one the record was found in (UIDVALIDITY)."""
        stack = ExitStack()
        imap = await asyncio.to_thread(stack.enter_context, self._session())
        try:
            if await asyncio.to_thread(self._select, imap, folder, readonly=True) != validity:
                raise ConnectorTransientError("the mailbox changed while it was read")
            decoder = parts.Decoder(part.encoding)
            offset, step = 0, self.config.part_chunk_bytes
            while True:
                raw = await asyncio.to_thread(self._range, imap, uid, part.section, offset, step)
                offset += len(raw)
                if piece := decoder.feed(raw):
                    yield piece
                if len(raw) < step:
                    break
            if tail := decoder.finish():
                yield tail
        finally:
            await asyncio.to_thread(stack.close)

    def _range(self, imap: imaplib.IMAP4, uid: int, section: str, offset: int, size: int) -> bytes:
        with wire.classified("UID FETCH"):
            typ, data = imap.uid("FETCH", str(uid), f"(BODY.PEEK[{section}]<{offset}.{size}>)")
        wire.check(typ, "UID FETCH", data)
        return wire.parse_fetch(data).get(uid, (None, b""))[1]

    def _message_data(
        self, folder: wire.Folder, size: int | None, raw: bytes, text: parts.Part | None
    ) -> dict[str, object]:
        message = wire.read_message(raw)
        body, incomplete = wire.plain_text(message)
        limit = self.config.max_body_chars
        cut = size is not None and size > len(raw)
        if cut and text is not None:  # only the text counts, not the attachments after it
            cut = not wire.text_complete(message, text.encoded_size)
        return {
            "folder": folder.name,
            "date": wire.header(message, "date"),
            "from": wire.header(message, "from"),
            "to": wire.header(message, "to"),
            "cc": wire.header(message, "cc"),
            "subject": wire.header(message, "subject"),
            "body": body[:limit],
            "body_truncated": incomplete or cut or len(body) > limit,
            "size": size,
        }

    def _erase(self, imap: imaplib.IMAP4, wanted: set[str]) -> int:
        items = "(UID BODY.PEEK[HEADER.FIELDS (FROM TO CC BCC)])"
        uidplus = "UIDPLUS" in imap.capabilities
        erased = 0
        for folder in self._folders_of_account(imap):
            self._select(imap, folder, readonly=False)
            uids = sorted(uid for found in self._matching(imap, wanted, items) for uid in found)
            if not uids:
                continue
            with wire.classified("UID STORE"):
                typ, data = imap.uid("STORE", wire.uid_set(uids), "+FLAGS.SILENT", r"(\Deleted)")
                wire.check(typ, "UID STORE", data)
                if uidplus:
                    typ, data = imap.uid("EXPUNGE", wire.uid_set(uids))
                else:
                    typ, data = imap.expunge()
                wire.check(typ, "EXPUNGE", data)
            erased += len(uids)
        return erased


def _addresses(subject: SubjectRef) -> set[str]:
    return {e.strip().lower() for e in subject.emails if e.strip()}
