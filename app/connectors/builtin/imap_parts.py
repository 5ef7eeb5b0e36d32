"""The parts of a message, from IMAP's BODYSTRUCTURE, and their bytes decoded as they stream.

A mailbox may hold attachments of any size: the ``imap`` connector never downloads a whole
message to find them. BODYSTRUCTURE names every part (``2``, ``1.2``), its type, transfer
encoding and file name; a part is then fetched in ranges (``BODY.PEEK[2]<offset.length>``)
and decoded piece by piece.
"""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.header import decode_header, make_header
from email.message import Message
from email.utils import decode_rfc2231
from typing import Any
from urllib.parse import unquote

_TOKEN = re.compile(rb'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|([^\s()"]+))')
_LITERAL = re.compile(rb"\{(\d+)\}\s*$")
_WHITESPACE = re.compile(rb"\s+")
IDENTITY = frozenset({"7bit", "8bit", "binary"})


@dataclass(frozen=True)
class Part:
    """One leaf of a message that is a file (an attachment, an attached message)."""

    section: str  # IMAP section number, e.g. "2" or "1.3"
    name: str
    media_type: str
    encoding: str  # lower-case Content-Transfer-Encoding
    encoded_size: int

    @property
    def size(self) -> int | None:
        """The decoded size when the encoding keeps it (7bit, 8bit, binary)."""
        return self.encoded_size if self.encoding in IDENTITY else None


def parse(data: Iterable[Any]) -> list[Any]:
    """Every top-level value of an IMAP answer as nested lists (NIL is None, literals are
    bytes); imaplib hands literals over as ``(line ending {n}, literal)`` tuples."""
    tokens: list[Any] = []
    for segment in data:
        if isinstance(segment, tuple):
            line, literal = segment[0], segment[1]
            tokens += _tokens(_LITERAL.sub(b"", line))
            tokens.append(("literal", literal))
        elif isinstance(segment, bytes):
            tokens += _tokens(segment)
    stack: list[list[Any]] = [[]]
    for token in tokens:
        if token == "(":
            stack.append([])
        elif token == ")":
            done = stack.pop()
            stack[-1].append(done)
        else:
            stack[-1].append(token[1] if isinstance(token, tuple) else token)
    return stack[0]


def structures(data: Iterable[Any]) -> dict[int, list[Any]]:
    """UID -> BODYSTRUCTURE from an answer to ``UID FETCH ... (UID BODYSTRUCTURE)``."""
    found: dict[int, list[Any]] = {}
    for item in parse(data):
        if not isinstance(item, list):
            continue
        pairs = dict(zip(item[::2], item[1::2], strict=False))
        uid, body = pairs.get(b"UID"), pairs.get(b"BODYSTRUCTURE")
        if isinstance(uid, bytes) and uid.isdigit() and isinstance(body, list):
            found[int(uid)] = body
    return found


def files(body: list[Any], section: str = "") -> list[Part]:
    """The parts of a BODYSTRUCTURE that are files, with their section numbers."""
    if body and isinstance(body[0], list):  # multipart: children, then the subtype
        found: list[Part] = []
        for n, child in enumerate(c for c in body if isinstance(c, list) and c):
            found += files(child, f"{section}.{n + 1}" if section else str(n + 1))
        return found
    part = _leaf(body, section or "1")
    return [part] if part is not None else []


def text_part(body: list[Any], name: str) -> Part | None:
    """The first text/plain (else text/html) part that is not a file: the message's text,
    as a file called ``name`` (with .txt or .html)."""
    leaves = list(_leaves(body, ""))
    for wanted in (b"plain", b"html"):
        for number, leaf in leaves:
            is_text = _lower(leaf[0]) == b"text" and _lower(leaf[1]) == wanted
            if is_text and len(leaf) >= 7 and _leaf(leaf, number) is None:
                size = leaf[6]
                return Part(
                    section=number,
                    name=f"{name}.{'txt' if wanted == b'plain' else 'html'}",
                    media_type=f"text/{wanted.decode()}",
                    encoding=_text(leaf[5]).lower() or "7bit",
                    encoded_size=int(size) if isinstance(size, bytes) and size.isdigit() else 0,
                )
    return None


def _leaves(body: list[Any], section: str) -> Iterable[tuple[str, list[Any]]]:
    if body and isinstance(body[0], list):
        for n, child in enumerate(c for c in body if isinstance(c, list) and c):
            yield from _leaves(child, f"{section}.{n + 1}" if section else str(n + 1))
    else:
        yield section or "1", body


def _leaf(body: list[Any], section: str) -> Part | None:
    """A single part if it is a file: an attachment, a named non-text part, a message."""
    if len(body) < 7:
        return None
    kind, subtype = _text(body[0]).lower(), _text(body[1]).lower()
    params = _params(body[2])
    disposition = body[_disposition_at(kind, subtype)] if len(body) > 8 else None
    disp_type, disp_params = "", {}
    if isinstance(disposition, list) and disposition:
        disp_type = _text(disposition[0]).lower()
        disp_params = _params(disposition[1] if len(disposition) > 1 else None)
    elif isinstance(disposition, bytes):  # some servers send the header's text as it is
        disp_type, disp_params = _header_disposition(_text(disposition))
    name = disp_params.get("filename") or params.get("name")
    is_message = (kind, subtype) == ("message", "rfc822")
    if not (disp_type == "attachment" or is_message or (name and kind != "text")):
        return None
    size = body[6]
    return Part(
        section=section,
        name=name or f"{section}.{'eml' if is_message else 'bin'}",
        media_type=f"{kind}/{subtype}",
        encoding=_text(body[5]).lower() or "7bit",
        encoded_size=int(size) if isinstance(size, bytes) and size.isdigit() else 0,
    )


def _header_disposition(value: str) -> tuple[str, dict[str, str]]:
    header = Message()
    header["Content-Disposition"] = value
    name = header.get_filename()
    return (header.get_content_disposition() or ""), ({"filename": name} if name else {})


def _disposition_at(kind: str, subtype: str) -> int:
    """Extension data follows the basic fields: text adds lines, message/rfc822 adds the
    envelope, body and lines; then come MD5 and the disposition."""
    if kind == "text":
        return 9
    if (kind, subtype) == ("message", "rfc822"):
        return 11
    return 8


def _params(value: Any) -> dict[str, str]:
    if not isinstance(value, list):
        return {}
    raw = {_text(k).lower(): _text(v) for k, v in zip(value[::2], value[1::2], strict=False)}
    out: dict[str, str] = {}
    for key, text in raw.items():
        if key.endswith("*"):  # RFC 2231: charset'language'percent-encoded
            charset, _, encoded = decode_rfc2231(text)
            out[key[:-1]] = unquote(encoded, encoding=charset or "utf-8", errors="replace")
        else:
            out.setdefault(key, _words(text))
    return out


def _words(text: str) -> str:
    """RFC 2047 encoded words (``=?utf-8?q?...?=``), as mail clients send file names."""
    try:
        return str(make_header(decode_header(text)))
    except (ValueError, LookupError, UnicodeDecodeError):
        return text


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else ""


def _lower(value: Any) -> bytes:
    return value.lower() if isinstance(value, bytes) else b""


def _tokens(line: bytes) -> list[Any]:
    out: list[Any] = []
    for match in _TOKEN.finditer(line):
        opened, closed, quoted, atom = match.groups()
        if opened:
            out.append("(")
        elif closed:
            out.append(")")
        elif quoted is not None:
            out.append(("literal", re.sub(rb"\\(.)", rb"\1", quoted)))
        elif atom is not None:
            out.append(("literal", None if atom.upper() == b"NIL" else atom))
    return out


class Decoder:
    """Undoes a transfer encoding piece by piece: base64 in whole quanta, quoted-printable in
    whole lines, anything else as it comes."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self.rest = b""

    def feed(self, raw: bytes) -> bytes:
        if self.encoding == "base64":
            data = self.rest + _WHITESPACE.sub(b"", raw)
            whole = len(data) - len(data) % 4
            self.rest = data[whole:]
            return _b64(data[:whole])
        if self.encoding == "quoted-printable":
            data = self.rest + raw
            cut = data.rfind(b"\n") + 1
            self.rest = data[cut:]
            return binascii.a2b_qp(data[:cut])
        return raw

    def finish(self) -> bytes:
        rest, self.rest = self.rest, b""
        if self.encoding == "base64":
            return _b64(rest + b"=" * (-len(rest) % 4)) if rest else b""
        if self.encoding == "quoted-printable":
            return binascii.a2b_qp(rest)
        return rest


def _b64(data: bytes) -> bytes:
    try:
        return binascii.a2b_base64(data)
    except binascii.Error:
        return b""
