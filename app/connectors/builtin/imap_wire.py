"""Blocking IMAP helpers of the ``imap`` connector (run in a worker thread).

The stdlib ``imaplib`` speaks the protocol; this module adds what it leaves to the caller:
quoting, LIST and FETCH response parsing, modified UTF-7 folder names, exact address
matching (IMAP SEARCH matches substrings), reading a possibly truncated message, and
classifying failures. Messages and internal messages never quote server text beyond a
response code, since servers echo folder names and search terms.
"""

from __future__ import annotations

import base64
import email
import email.policy
import html
import imaplib
import re
import ssl
from collections.abc import Generator, Iterable
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from email.utils import getaddresses
from typing import Any

from app.connectors.errors import (
    ConnectorConfigError,
    ConnectorError,
    ConnectorPermanentError,
    ConnectorTransientError,
)

_LIST = re.compile(rb'^\((?P<flags>[^)]*)\) (?P<delim>NIL|"(?:[^"\\]|\\.)*") ?(?P<name>.*)$')
_CODE = re.compile(r"\[([A-Z][A-Z0-9-]*)")
_UID = re.compile(rb"\bUID (\d+)")
_SIZE = re.compile(rb"\bRFC822\.SIZE (\d+)")
_TAGS = re.compile(r"<[^>]+>")
ADDRESS_HEADERS = ("from", "to", "cc", "bcc")


@dataclass(frozen=True)
class Folder:
    raw: str  # as the server names it (modified UTF-7): used in commands and record ids
    name: str  # decoded, for people


def quote(value: str) -> str:
    """An IMAP quoted string; CR/LF cannot be quoted and would end the command."""
    if "\r" in value or "\n" in value:
        raise ConnectorPermanentError("a value with a line break cannot be sent to IMAP")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def decode_folder(raw: str) -> str:
    """Modified UTF-7 (RFC 3501 5.1.3) to text: ``S&APg-ppelpost`` -> ``Søppelpost``."""

    def one(match: re.Match[str]) -> str:
        chunk = match.group(1)
        if not chunk:
            return "&"
        data = chunk.replace(",", "/")
        return base64.b64decode(data + "=" * (-len(data) % 4)).decode("utf-16-be")

    try:
        return re.sub(r"&([A-Za-z0-9+,]*)-", one, raw)
    except (ValueError, UnicodeDecodeError):
        return raw


def parse_list(data: Iterable[Any]) -> list[Folder]:
    """Selectable folders of a LIST answer (``\\Noselect`` and ``\\NonExistent`` skipped)."""
    folders: list[Folder] = []
    for entry in data:
        if entry is None:
            continue
        line, literal = (entry[0], entry[1]) if isinstance(entry, tuple) else (entry, None)
        match = _LIST.match(line)
        if match is None:
            continue
        flags = match.group("flags").lower().split()
        if b"\\noselect" in flags or b"\\nonexistent" in flags:
            continue
        raw_name = literal if literal is not None else match.group("name")
        name = raw_name.decode("utf-8", "replace")
        if literal is None and name.startswith('"') and name.endswith('"'):
            name = re.sub(r"\\(.)", r"\1", name[1:-1])
        folders.append(Folder(raw=name, name=decode_folder(name)))
    return folders


def parse_fetch(data: Iterable[Any]) -> dict[int, tuple[int | None, bytes]]:
    """UID -> (RFC822.SIZE, literal) from a FETCH answer with one literal per message."""
    found: dict[int, tuple[int | None, bytes]] = {}
    meta, literal = b"", b""

    def flush() -> None:
        uid = _UID.search(meta)
        if uid is not None:
            size = _SIZE.search(meta)
            found[int(uid.group(1))] = (int(size.group(1)) if size else None, literal)

    for part in data:
        if isinstance(part, tuple):
            flush()
            meta, literal = part[0], part[1]
        elif isinstance(part, bytes):
            meta += part
    flush()
    return found


def addresses(raw: bytes) -> set[str]:
    """Every address in From/To/Cc/Bcc of a message (or its header), lower-cased.

    Parsed with the lenient legacy policy: matching must not fail on a header the modern
    parser rejects, or a message would escape erasure.
    """
    headers = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    values = [str(v) for h in ADDRESS_HEADERS for v in (headers.get_all(h) or [])]
    return {addr.lower() for _, addr in getaddresses(values) if "@" in addr}


def read_message(raw: bytes) -> EmailMessage:
    return email.message_from_bytes(raw, _class=EmailMessage, policy=email.policy.default)


def header(message: EmailMessage, name: str) -> str | None:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # a header too malformed to parse
        return None
    return None if value is None else str(value)


def plain_text(message: EmailMessage) -> tuple[str, bool]:
    """The text/plain body (or HTML reduced to text); the flag says decoding fell short."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
        if part is None:
            return "", False
        content = part.get_content()
    except (LookupError, ValueError, KeyError, AssertionError):
        return "", True
    text = str(content)
    if part.get_content_subtype() == "html":
        text = html.unescape(_TAGS.sub(" ", text))
    return text.strip(), False


def text_complete(message: EmailMessage, encoded_size: int) -> bool:
    """Whether the text part of a message read only in part came whole (its octets, as the
    server's BODYSTRUCTURE counts them, all arrived, or a part after it began): a big
    attachment after it does not make the text cut."""
    try:
        part = message.get_body(preferencelist=("plain", "html"))
        payload = part.get_payload(decode=False) if part is not None else None
        walked = list(message.walk())
    except (LookupError, ValueError, KeyError, AssertionError):
        return False
    if part is not None and any(p is part for p in walked[:-1]):
        return True  # the parser met the boundary after it
    if not isinstance(payload, str):
        return False
    return len(payload.encode("utf-8", "surrogateescape")) >= encoded_size - 2


def response_code(exc: BaseException | str) -> str:
    """The bracketed response code of an IMAP error (``AUTHENTICATIONFAILED``), or ``error``."""
    match = _CODE.search(str(exc))
    return match.group(1) if match else "error"


@contextmanager
def classified(what: str) -> Generator[None, None, None]:
    """Map imaplib, socket and TLS failures to connector errors.

    Args:
        what: the operation, e.g. ``"UID SEARCH"``; used in the internal message.
    """
    try:
        yield
    except ConnectorError:
        raise
    except imaplib.IMAP4.abort:
        raise ConnectorTransientError(
            "the mail server closed the connection", internal_message=f"{what}: abort"
        ) from None
    except imaplib.IMAP4.error as exc:
        code = response_code(exc)
        raise ConnectorPermanentError(
            f"the mail server refused {what} ({code})", internal_message=f"{what}: {code}"
        ) from None
    except ssl.SSLCertVerificationError:
        raise ConnectorConfigError(
            "the mail server's TLS certificate was not accepted",
            internal_message=f"{what}: certificate verification failed",
        ) from None
    except ssl.SSLError as exc:
        raise ConnectorConfigError(
            "TLS with the mail server failed: check port and security",
            internal_message=f"{what}: {getattr(exc, 'reason', None) or type(exc).__name__}",
        ) from None
    except TimeoutError:
        raise ConnectorTransientError(
            "the mail server did not answer in time", internal_message=f"{what}: timeout"
        ) from None
    except OSError as exc:
        raise ConnectorTransientError(
            "could not reach the mail server", internal_message=f"{what}: {type(exc).__name__}"
        ) from None


def login_error(exc: imaplib.IMAP4.error) -> ConnectorError:
    """A refused LOGIN: wrong credentials, unless the server says it is only unavailable."""
    code = response_code(exc)
    if code in ("UNAVAILABLE", "INUSE", "LIMIT"):
        return ConnectorTransientError(
            "the mail server cannot log in right now", internal_message=f"LOGIN: {code}"
        )
    return ConnectorConfigError("credentials rejected", internal_message=f"LOGIN: {code}")


def check(typ: str, what: str, data: Any = None) -> None:
    """imaplib returns ``NO``/``BAD`` as values for most commands: raise them."""
    if typ != "OK":
        code = response_code(str(data))
        raise ConnectorPermanentError(
            f"the mail server refused {what} ({code})", internal_message=f"{what}: {typ} {code}"
        )


def uid_set(uids: Iterable[int]) -> str:
    return ",".join(str(u) for u in sorted(uids))


def search_criteria(address: str) -> list[str]:
    """``OR FROM a OR TO a OR CC a BCC a``: a substring match, filtered exactly afterwards."""
    q = quote(address)
    return ["OR", "FROM", q, "OR", "TO", q, "OR", "CC", q, "BCC", q]
