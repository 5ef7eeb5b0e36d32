"""Sealing and opening a request's personal data; the only place that touches the plaintext."""

from __future__ import annotations

from typing import Any

from app.db.models import DsrRequest
from app.domain import identity
from app.domain.identifiers import normalise_email
from app.domain.identity import Identity
from app.infra.crypto import DataCipher, token_hash, tokens_equal


class SubjectVault:
    """Reads and writes the encrypted columns of a request, and its lookup hashes."""

    def __init__(self, cipher: DataCipher) -> None:
        self.cipher = cipher

    def store_subject(self, request: DsrRequest, subject: dict[str, Any]) -> None:
        request.subject_ciphertext = self.cipher.seal(subject, purpose=f"subject:{request.id}")
        email = subject.get("email")
        national_id = subject.get("national_id")
        request.email_hash = self.email_hash(email) if email else None
        request.national_id_hash = (
            self.cipher.lookup_hash(national_id, kind="national_id") if national_id else None
        )

    def subject(self, request: DsrRequest) -> dict[str, Any]:
        opened = self.cipher.open(request.subject_ciphertext, purpose=f"subject:{request.id}")
        assert isinstance(opened, dict)
        return opened

    def proven_subject(self, request: DsrRequest) -> dict[str, Any]:
        """The subject without the identifiers nobody proved (the name stays: it finds
        nothing by itself)."""
        subject = self.subject(request)
        proven, _claimed = identity.split(subject, Identity.from_json(request.identity).proven)
        if subject.get("name"):
            proven["name"] = subject["name"]
        return proven

    def store_details(self, request: DsrRequest, details: dict[str, Any]) -> None:
        request.details_ciphertext = self.cipher.seal(details, purpose=f"details:{request.id}")

    def details(self, request: DsrRequest) -> dict[str, Any]:
        if not request.details_ciphertext:
            return {}
        opened = self.cipher.open(request.details_ciphertext, purpose=f"details:{request.id}")
        assert isinstance(opened, dict)
        return opened

    def notes(self, request: DsrRequest) -> dict[str, str]:
        """Free text written by staff or the person (reasons, notes): may hold personal data."""
        if not request.notes_ciphertext:
            return {}
        opened = self.cipher.open(request.notes_ciphertext, purpose=f"notes:{request.id}")
        assert isinstance(opened, dict)
        return opened

    def add_note(self, request: DsrRequest, key: str, text: str) -> None:
        notes = self.notes(request)
        notes[key] = text
        request.notes_ciphertext = self.cipher.seal(notes, purpose=f"notes:{request.id}")

    def email_hash(self, email: str) -> str:
        return self.cipher.lookup_hash(normalise_email(email), kind="email")

    def national_id_hash(self, national_id: str) -> str:
        return self.cipher.lookup_hash(national_id, kind="national_id")

    @staticmethod
    def token_hash(token: str) -> str:
        return token_hash(token)

    @staticmethod
    def token_matches(request: DsrRequest, token: str) -> bool:
        return tokens_equal(token, request.status_token_hash)
