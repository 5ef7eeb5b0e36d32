"""Every table, imported here so ``SQLModel.metadata`` (and Alembic) sees them all."""

from app.db.models.apikeys import ApiKey
from app.db.models.audit import AuditEvent
from app.db.models.requests import DsrRequest, VerificationChallenge

__all__ = ["ApiKey", "AuditEvent", "DsrRequest", "VerificationChallenge"]
