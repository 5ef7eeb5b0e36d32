"""The audit chain's rules: keyed hashes, two chains per event, and what a check finds.

Every event is in two chains at once: its stream's (a request, or ``system``: ``seq`` and
``prev_hash``) and the global one over all streams (``global_seq`` and ``global_prev_hash``).
Its hash is an HMAC-SHA-256 under a key that is not in the database, so whoever can write the
database but lacks the key cannot recompute hashes after an edit. The heads of both chains
are kept beside the events, so a deleted tail or a whole deleted stream shows as a gap; a
signed checkpoint kept elsewhere catches a rollback of everything after it, heads included.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

GENESIS = "0" * 64
GLOBAL_STREAM = "*"  # the global head's row among the stream heads; never a request id
CHECKPOINT_PREFIX = "iac1"

Problem = Literal[
    "altered",  # the event's hash does not follow from its fields and links under the key
    "missing",  # events that the sequence numbers say existed are gone
    "missing_tail",  # the head says more events were written than are left
    "missing_stream",  # a stream whose every event is gone
    "unanchored",  # events past the head (written around the service)
    "checkpoint",  # the checkpoint's event is gone or different: the trail was rolled back
]


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot hash {type(value).__name__}")


def canonical(fields: Mapping[str, Any]) -> str:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), default=_json_default)


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


@dataclass(frozen=True)
class Checkpoint:
    """The global chain's head at one moment, signed: ``global_seq`` events, the last ``hash``."""

    global_seq: int
    hash: str
    at: datetime
    key_id: str


class InvalidCheckpoint(ValueError):
    """Not a checkpoint, or not signed by this service's audit key."""


class AuditKey:
    """The chain's HMAC key and the checkpoint signing key, both derived from one secret."""

    def __init__(self, secret: str) -> None:
        raw = secret.encode()
        if len(raw) < 32:
            raise ValueError("the audit key must be at least 32 characters")
        self._mac_key = _derive(raw, b"innsyn audit chain")
        self._signer = Ed25519PrivateKey.from_private_bytes(
            _derive(raw, b"innsyn audit checkpoint")
        )
        public = self._signer.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public_key = _b64(public)
        self.key_id = hashlib.sha256(public).hexdigest()[:16]

    def event_hash(self, prev_hash: str, global_prev_hash: str, fields: Mapping[str, Any]) -> str:
        """HMAC-SHA-256 over both links and the event's canonical JSON."""
        message = f"{prev_hash}|{global_prev_hash}|{canonical(fields)}".encode()
        return hmac.new(self._mac_key, message, hashlib.sha256).hexdigest()

    def sign(self, checkpoint: Checkpoint) -> str:
        """``iac1.<payload>.<signature>``: printable, for an operator to store elsewhere."""
        payload = canonical(
            {
                "global_seq": checkpoint.global_seq,
                "hash": checkpoint.hash,
                "at": checkpoint.at,
                "key_id": checkpoint.key_id,
            }
        ).encode()
        signature = self._signer.sign(CHECKPOINT_PREFIX.encode() + b"." + payload)
        return f"{CHECKPOINT_PREFIX}.{_b64(payload)}.{_b64(signature)}"

    def open(self, token: str) -> Checkpoint:
        """The checkpoint in ``token`` if this key signed it."""
        try:
            prefix, payload_b64, signature_b64 = token.strip().split(".")
            if prefix != CHECKPOINT_PREFIX:
                raise InvalidCheckpoint("not an audit checkpoint")
            payload = _unb64(payload_b64)
            self._signer.public_key().verify(
                _unb64(signature_b64), CHECKPOINT_PREFIX.encode() + b"." + payload
            )
            data = json.loads(payload)
            checkpoint = Checkpoint(
                global_seq=int(data["global_seq"]),
                hash=str(data["hash"]),
                at=datetime.fromisoformat(str(data["at"])),
                key_id=str(data["key_id"]),
            )
        except InvalidCheckpoint:
            raise
        except (ValueError, KeyError, TypeError, InvalidSignature) as exc:
            raise InvalidCheckpoint(
                "the checkpoint is malformed or not signed by this key"
            ) from exc
        if checkpoint.global_seq < 0:
            raise InvalidCheckpoint("the checkpoint is malformed or not signed by this key")
        return checkpoint


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Link:
    """One stored event as the checks see it."""

    stream: str
    seq: int
    global_seq: int
    request_id: str | None
    prev_hash: str
    global_prev_hash: str
    hash: str
    fields: Mapping[str, Any]


@dataclass(frozen=True)
class Finding:
    """Something wrong, and where: the stream (request id) and the sequence numbers."""

    problem: Problem
    stream: str | None = None
    request_id: str | None = None
    seq: int | None = None
    global_seq: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str


@dataclass
class Check:
    findings: list[Finding] = field(default_factory=list)
    events: int = 0

    @property
    def verified(self) -> bool:
        return not self.findings


def check_stream(
    key: AuditKey,
    stream: str,
    links: Sequence[Link],
    head: Head | None,
    *,
    should_exist: bool = False,
) -> Check:
    """A stream's events in ``seq`` order against its keyed links and its head."""
    check = Check(events=len(links))
    request_id = None if stream == "system" else stream

    def found(problem: Problem, seq: int | None, detail: str, g: int | None = None) -> None:
        check.findings.append(Finding(problem, stream, request_id, seq, g, detail))

    expected_seq, expected_prev = 1, GENESIS
    for link in links:
        if link.seq > expected_seq:
            for seq in range(expected_seq, link.seq):
                found("missing", seq, "event deleted")
        elif link.prev_hash != expected_prev:
            found("altered", link.seq, "does not link to the event before it", link.global_seq)
        if key.event_hash(link.prev_hash, link.global_prev_hash, link.fields) != link.hash:
            found(
                "altered", link.seq, "hash does not match the event under the key", link.global_seq
            )
        expected_seq, expected_prev = link.seq + 1, link.hash
    last = links[-1] if links else None
    if head is None:
        if last is not None:
            found("unanchored", last.seq, "the stream has no head")
        elif should_exist:
            found("missing_stream", None, "every event of this request is gone")
        return check
    if last is None:
        if head.seq > 0:
            found("missing_stream", None, f"the head says {head.seq} events; none are left")
        return check
    if head.seq > last.seq:
        for seq in range(last.seq + 1, head.seq + 1):
            found("missing_tail", seq, "the head says this event was written")
    elif head.seq < last.seq:
        for link in links:
            if link.seq > head.seq:
                found("unanchored", link.seq, "written past the head", link.global_seq)
    elif head.hash != last.hash:
        found("altered", last.seq, "the head's hash differs from the last event's")
    return check


def check_global(
    key: AuditKey,
    links: Iterable[Link],
    head: Head | None,
    *,
    anchor: Head,
) -> Check:
    """The global chain from ``anchor`` (a checkpoint, or genesis) to its head."""
    check = Check()

    def found(problem: Problem, link: Link | None, g: int | None, detail: str) -> None:
        check.findings.append(
            Finding(
                problem,
                link.stream if link else None,
                link.request_id if link else None,
                link.seq if link else None,
                g,
                detail,
            )
        )

    expected_g, expected_prev = anchor.seq + 1, anchor.hash
    for link in links:
        check.events += 1
        if link.global_seq > expected_g:
            for g in range(expected_g, link.global_seq):
                found("missing", None, g, "event deleted from the global chain")
        elif link.global_prev_hash != expected_prev:
            found("altered", link, link.global_seq, "does not link to the event before it")
        if key.event_hash(link.prev_hash, link.global_prev_hash, link.fields) != link.hash:
            found("altered", link, link.global_seq, "hash does not match the event under the key")
        expected_g, expected_prev = link.global_seq + 1, link.hash
    last_g = expected_g - 1
    if head is None:
        if check.events:
            found("unanchored", None, last_g, "the global head is missing")
        return check
    if head.seq > last_g:
        for g in range(last_g + 1, head.seq + 1):
            found("missing_tail", None, g, "the global head says this event was written")
    elif head.seq < last_g and check.events:  # behind the anchor itself: anchor_findings
        found("unanchored", None, head.seq + 1, "events past the global head")
    elif head.seq == last_g and head.hash != expected_prev:
        found("altered", None, last_g, "the global head's hash differs from the last event's")
    return check


def anchor_findings(
    checkpoint: Checkpoint, stored: Link | None, head: Head | None
) -> list[Finding]:
    """The checkpoint's event must still be there, unchanged, and the head not behind it."""
    if checkpoint.global_seq == 0:
        return []
    if stored is None or stored.hash != checkpoint.hash:
        return [
            Finding(
                "checkpoint",
                stored.stream if stored else None,
                stored.request_id if stored else None,
                stored.seq if stored else None,
                checkpoint.global_seq,
                "the checkpoint's event is gone or different",
            )
        ]
    if head is None or head.seq < checkpoint.global_seq:
        return [
            Finding(
                "checkpoint",
                None,
                None,
                None,
                checkpoint.global_seq,
                "the head is behind the checkpoint",
            )
        ]
    return []
