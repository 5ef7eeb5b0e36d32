"""The long-lived parts one process shares: settings, database, clock, cipher, mailer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from app.clock import Clock, SystemClock
from app.connectors.loader import load_registry
from app.connectors.registry import ConnectorRegistry
from app.crypto import DataCipher
from app.db.engine import Database
from app.ratelimit import RateLimiter
from app.security import IdTokenVerifier, StaffTokenVerifier
from app.services.mail import Mailer
from app.settings import Settings

if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from app.db.models import DsrRequest

# Called in the same transaction when a request becomes verified (the planner hooks in here).
VerifiedHook = Callable[["Runtime", "AsyncSession", "DsrRequest"], Awaitable[Any]]


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
    on_verified: list[VerifiedHook] = field(default_factory=list)

    @classmethod
    def build(cls, settings: Settings, *, clock: Clock | None = None) -> Runtime:
        assert settings.data_key is not None
        return cls(
            settings=settings,
            db=Database(settings.database_url),
            clock=clock or SystemClock(),
            cipher=DataCipher(settings.data_key.get_secret_value()),
            mailer=Mailer(
                sender=settings.mail_from, smtp_url=settings.smtp_url, outbox=settings.outbox_dir
            ),
            tokens=StaffTokenVerifier(settings),
            connectors=load_registry(
                settings.connectors_file, strict=settings.connectors_strict
            ),
            id_tokens=IdTokenVerifier(settings) if settings.oidc_issuer else None,
            rate_limiter=RateLimiter(
                per_ip_per_minute=settings.rate_limit_per_ip_per_minute,
                per_key_per_minute=settings.rate_limit_per_key_per_minute,
            ),
        )
