"""What an approver withheld from an answer (Art. 15(4)), kept sealed with the request."""

from __future__ import annotations

import json

from app.db.models import DsrRequest
from app.runtime import Runtime
from app.schemas.review import Redaction
from app.services.subjects import SubjectVault

NOTE = "redactions"


def of(rt: Runtime, request: DsrRequest) -> list[Redaction]:
    """The redactions of this answer (none unless it was reviewed and released with some)."""
    raw = SubjectVault(rt.cipher).notes(request).get(NOTE)
    return [Redaction.model_validate(r) for r in json.loads(raw)] if raw else []


def keep(rt: Runtime, request: DsrRequest, redactions: list[Redaction]) -> None:
    payload = json.dumps([r.model_dump() for r in redactions], ensure_ascii=False)
    SubjectVault(rt.cipher).add_note(request, NOTE, payload)
