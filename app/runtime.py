"""The long-lived parts one process shares: settings, database, clock, cipher, mailer."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from app.clock import Clock, SystemClock
from app.connectors.loader import load_registry
from app.connectors.registry import ConnectorRegistry
from app.db.engine import Database
from app.domain.audit import AuditKey
from app.domain.holds import HoldCatalogue, policy
from app.domain.recipients import Directory
from app.infra.crypto import DataCipher
from app.infra.mail import Mailer
from app.jobs.factory import registry_from_env
from app.ratelimit import RateLimiter
from app.security import IdTokenVerifier, StaffTokenVerifier
from app.services.recipient_directory import load_directory
from app.settings import Settings


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Clock
    cipher: DataCipher
    mailer: Mailer
    tokens: StaffTokenVerifier
    id_tokens: IdTokenVerifier | None = None
    rate_limiter: RateLimiter | None = None
    connectors: ConnectorRegistry = field(default_factory=ConnectorRegistry)
    hold_catalogue: HoldCatalogue = field(default_factory=HoldCatalogue)
    recipients: Directory = field(default_factory=Directory)  # Art. 19 routes
    # Set (after commit) when tasks become due, so this process's workers start at once.
    task_wakeup: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def build(cls, settings: Settings, *, clock: Clock | None = None) -> Runtime:
        assert settings.data_key is not None
        assert settings.audit_key is not None
        return cls(
            settings=settings,
            db=Database(
                settings.database_url, audit_key=AuditKey(settings.audit_key.get_secret_value())
            ),
            clock=clock or SystemClock(),
            cipher=DataCipher(settings.data_key.get_secret_value()),
            mailer=Mailer(
                sender=settings.mail_from, smtp_url=settings.smtp_url, outbox=settings.outbox_dir
            ),
            tokens=StaffTokenVerifier(settings),
            connectors=registry_from_env()
            or load_registry(settings.connectors_file, strict=settings.connectors_strict),
            recipients=load_directory(settings.connectors_file),
            id_tokens=IdTokenVerifier(settings) if settings.oidc_issuer else None,
            hold_catalogue=HoldCatalogue(
                policy(
                    p.code,
                    months=p.months,
                    justification=p.justification,
                    nb=p.nb,
                    en=p.en,
                    ground=p.ground if p.blocks_erasure else None,
                    statute=p.statute,
                )
                for p in settings.hold_policies
            ),
            rate_limiter=RateLimiter(
                per_ip_per_minute=settings.rate_limit_per_ip_per_minute,
                per_key_per_minute=settings.rate_limit_per_key_per_minute,
                per_target_per_minute=settings.rate_limit_per_target_per_minute,
                per_subject_per_hour=settings.rate_limit_per_subject_per_hour,
            ),
        )
