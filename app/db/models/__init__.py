"""Every table, imported here so ``SQLModel.metadata`` (and Alembic) sees them all."""

from app.db.models.answers import AnswerLink
from app.db.models.apikeys import ApiKey
from app.db.models.audit import AuditCheckpoint, AuditEvent, AuditHead
from app.db.models.files import CollectedFile, CollectedFileChunk
from app.db.models.holds import LegalHold
from app.db.models.letters import OutgoingLetter
from app.db.models.recipients import RecipientNotice
from app.db.models.requests import DsrRequest, UsedIdToken, VerificationChallenge
from app.db.models.suppression import Suppression
from app.db.models.tasks import CollectedData, Task
from app.db.models.webhooks import DeadlineAlert, WebhookDelivery, WebhookSubscription

__all__ = [
    "AnswerLink",
    "ApiKey",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditHead",
    "CollectedData",
    "CollectedFile",
    "CollectedFileChunk",
    "DeadlineAlert",
    "DsrRequest",
    "LegalHold",
    "OutgoingLetter",
    "RecipientNotice",
    "Suppression",
    "Task",
    "UsedIdToken",
    "VerificationChallenge",
    "WebhookDelivery",
    "WebhookSubscription",
]
