"""Encryption at rest (AES-GCM) and keyed hashes for lookups, from one data key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v1"


def _derive(key: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(key)


class DataCipher:
    """Seals personal data; a blob is bound to its purpose, so one cannot be swapped for another."""

    def __init__(self, data_key: str) -> None:
        raw = base64.urlsafe_b64decode(data_key.encode() + b"=" * (-len(data_key) % 4))
        if len(raw) < 32:
            raise ValueError("the data key must be at least 32 bytes (urlsafe base64)")
        self._aead = AESGCM(_derive(raw, b"innsyn encryption"))
        self._mac_key = _derive(raw, b"innsyn lookup hash")

    def seal(self, value: Any, *, purpose: str) -> str:
        nonce = os.urandom(12)
        plain = json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
        sealed = self._aead.encrypt(nonce, plain, purpose.encode())
        return f"{_VERSION}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, blob: str, *, purpose: str) -> Any:
        version, _, body = blob.partition(".")
        if version != _VERSION:
            raise ValueError("unknown ciphertext version")
        raw = base64.urlsafe_b64decode(body)
        return json.loads(self._aead.decrypt(raw[:12], raw[12:], purpose.encode()))

    def seal_bytes(self, data: bytes, *, purpose: str) -> bytes:
        """Raw bytes sealed as nonce + ciphertext: a file's chunk, without base64's third."""
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, data, purpose.encode())

    def open_bytes(self, sealed: bytes, *, purpose: str) -> bytes:
        return self._aead.decrypt(sealed[:12], sealed[12:], purpose.encode())

    def lookup_hash(self, value: str, *, kind: str) -> str:
        """A keyed hash: equal inputs match, but nobody without the key can test guesses."""
        return hmac.new(self._mac_key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def token_hash(token: str) -> str:
    """Hash of a high-entropy random token (status tokens, API keys): SHA-256 is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_equal(token: str, expected_hash: str) -> bool:
    return hmac.compare_digest(token_hash(token), expected_hash)


def new_token(nbytes: int = 24) -> str:
    return secrets.token_urlsafe(nbytes)
