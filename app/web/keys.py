"""Keys for the pages' cookies, derived from the data key so no extra secret is configured.

HKDF with a purpose label gives each use its own key: a leaked cookie key says nothing about
the data key, and a CSRF token can never pass as a session.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def derive(data_key: str, purpose: str) -> bytes:
    """A 32-byte key for ``purpose`` (e.g. ``"csrf"``, ``"console-session"``)."""
    hkdf = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=f"innsyn-web:{purpose}".encode()
    )
    return hkdf.derive(data_key.encode())
