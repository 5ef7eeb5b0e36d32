"""BODYSTRUCTURE parsing and transfer decoding piece by piece (pure, no server)."""

from __future__ import annotations

import base64
import binascii
import random

import pytest

from app.connectors.builtin import imap_parts as parts

DATA = random.Random(4).randbytes(5000) + "æøå\r\n=.".encode() * 300


def pieces(raw: bytes, seed: int) -> list[bytes]:
    rng, out, at = random.Random(seed), [], 0
    while at < len(raw):
        step = rng.randint(1, 9)
        out.append(raw[at : at + step])
        at += step
    return out


@pytest.mark.parametrize(
    ("encoding", "encoded"),
    [
        ("base64", base64.encodebytes(DATA).replace(b"\n", b"\r\n")),
        ("quoted-printable", binascii.b2a_qp(DATA, istext=False).replace(b"\n", b"\r\n")),
        ("binary", DATA),
    ],
)
def test_any_split_of_the_wire_bytes_decodes_to_the_same_file(encoding, encoded):
    for seed in range(3):
        decoder = parts.Decoder(encoding)
        got = b"".join(decoder.feed(p) for p in pieces(encoded, seed)) + decoder.finish()
        assert got == DATA


def test_names_in_literals_rfc_2231_and_header_text_are_read():
    data = [
        (
            b'4 (UID 9 BODYSTRUCTURE (("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 20 1 '
            b'NIL NIL NIL NIL)("application" "pdf" ("name" {11}',
            b"faktura.pdf",
        ),
        b') NIL NIL "base64" 400 NIL ("attachment" ("filename*" "utf-8\'\'kvittering%20'
        b'%C3%A6.pdf")) NIL NIL)("image" "png" NIL NIL NIL "base64" 900 NIL '
        b'"attachment; filename=\\"skann.png\\"" NIL NIL)("message" "rfc822" NIL NIL NIL '
        b'"7bit" 300 NIL ("text" "plain" NIL NIL NIL "7bit" 3 1 NIL NIL NIL NIL) 1 NIL NIL '
        b'NIL NIL) "mixed" ("boundary" "b") NIL NIL NIL))',
    ]
    [shape] = parts.structures(data).values()
    found = parts.files(shape)
    assert [(p.section, p.name, p.media_type) for p in found] == [
        ("2", "kvittering æ.pdf", "application/pdf"),
        ("3", "skann.png", "image/png"),
        ("4", "4.eml", "message/rfc822"),
    ]
    assert found[2].size == 300 and found[0].size is None  # base64: known once decoded
    text = parts.text_part(shape, "Emne")
    assert text is not None and (text.section, text.name) == ("1", "Emne.txt")
