"""Service settings, read from the environment (prefix ``INNSYN_``) and an optional ``.env``."""

from __future__ import annotations

import base64
import json
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.files import private_dir, write_private

DEV_SECRETS_FILE = "dev-secrets.json"
# Generated under var/ outside production; required from the environment in production.
DEV_KEYS = ("signing_key", "data_key", "audit_key")
PRODUCTION_REQUIRED = ("data_key", "audit_key", "staff_issuer")


class HoldPolicy(BaseModel):
    """A company's own documented retention policy, added to the hold catalogue.

    A policy is not a law: it blocks an erasure request only when it rests on an Art. 17(3)
    ground the company names (a legal obligation with its statute, or a legal claim);
    without one it is a retention schedule, shown in the report, that never blocks erasure.
    """

    model_config = ConfigDict(hide_input_in_errors=True)

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    months: int = Field(gt=0, le=1200)
    justification: str = Field(min_length=3)
    nb: str
    en: str
    blocks_erasure: bool = Field(
        default=False, description="Keep the data despite an erasure request (needs a ground)."
    )
    ground: Literal["legal_obligation", "legal_claim"] | None = Field(
        default=None, description="The Art. 17(3) ground: (b) legal obligation, (e) legal claim."
    )
    statute: str | None = Field(
        default=None, min_length=3, description="The law that obliges (ground legal_obligation)."
    )

    @model_validator(mode="after")
    def _grounded(self) -> HoldPolicy:
        if self.blocks_erasure and self.ground is None:
            raise ValueError(
                "INNSYN_HOLD_POLICIES: a policy with blocks_erasure must name its GDPR art. "
                "17(3) ground (ground: legal_obligation with statute, or legal_claim); a "
                "company policy alone is not an exemption"
            )
        if self.ground == "legal_obligation" and not self.statute:
            raise ValueError(
                "INNSYN_HOLD_POLICIES: ground legal_obligation needs the statute that obliges"
            )
        return self


class Settings(BaseSettings):
    """Everything the service can be configured with; see the README's configuration table."""

    # Errors name the setting, never its value: pydantic would otherwise print every input
    # (keys included) next to a failed check.
    model_config = SettingsConfigDict(
        env_prefix="INNSYN_", env_file=".env", extra="ignore", hide_input_in_errors=True
    )

    env: Literal["development", "production", "test"] = "development"
    var_dir: Path = Path("var")
    database_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000

    signing_key: SecretStr | None = Field(
        default=None, description="HS256 key for locally issued staff tokens (development)."
    )
    data_key: SecretStr | None = Field(
        default=None,
        description="Key that encrypts personal data at rest (urlsafe base64, 32 bytes).",
    )
    audit_key: SecretStr | None = Field(
        default=None,
        description="Key of the audit trail's HMAC chain and checkpoint signatures; kept out "
        "of the database (at least 32 characters).",
    )
    allow_dev_keys_on_network: bool = Field(
        default=False,
        description="Let `innsyn serve` listen on a non-loopback address outside production.",
    )
    staff_issuer: str | None = Field(
        default=None, description="Issuer of staff JWTs in production (the company's IdP)."
    )
    staff_audience: str = "innsyn"
    staff_jwks_url: str | None = Field(default=None, description="JWKS of the staff issuer.")
    oidc_issuer: str | None = Field(
        default=None, description="Issuer of the data subject's ID tokens (ID-porten/BankID-style)."
    )
    oidc_audience: str | None = Field(
        default=None, description="Client id Innsyn's ID tokens are issued to."
    )
    oidc_jwks_url: str | None = Field(
        default=None, description="JWKS URL; default: discovered from the issuer."
    )
    oidc_national_id_claim: str = "pid"
    review_answers: bool = Field(
        default=False,
        description="Completed access and portability answers wait in awaiting_review until "
        "an approver releases them, with redactions (Art. 15(4)).",
    )
    oidc_require_nonce: bool | None = Field(
        default=None,
        description="Refuse an ID token sent without the nonce the form used (default: on in "
        "production): a token taken from elsewhere cannot be replayed into a form.",
    )
    rate_limit_per_ip_per_minute: int = Field(
        default=30,
        gt=0,
        description="Public endpoints: calls per client (address, or a form's visitor) and "
        "minute, per endpoint.",
    )
    rate_limit_per_key_per_minute: int = Field(
        default=600,
        gt=0,
        description="Ceiling per form API key and minute, all endpoints together.",
    )
    rate_limit_per_target_per_minute: int = Field(
        default=20,
        gt=0,
        description="Calls per request (or suppression-checked identifier) and minute, per "
        "endpoint, whoever makes them.",
    )
    rate_limit_per_subject_per_hour: int = Field(
        default=5, gt=0, description="New requests per subject e-mail address and hour."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses of reverse proxies whose X-Forwarded-For is believed (JSON list; "
        'e.g. ["10.0.0.5"], or ["*"] behind a balancer no one else can reach). Empty: the '
        "header is ignored.",
    )
    staff_roles_claim: str = "roles"
    token_ttl_minutes: int = 60 * 8

    max_body_bytes: int = 1_000_000
    default_language: Literal["nb", "en"] = "nb"
    smtp_url: str | None = None
    mail_from: str = "personvern@innsyn.invalid"
    controller_name: str | None = Field(
        default=None,
        max_length=200,
        description="The company that answers (the controller), as letters sign it, e.g. "
        "'Motkraft AS'. Unset: letters are signed by 'the privacy team'.",
    )
    controller_contact: str | None = Field(
        default=None,
        max_length=500,
        description="How the person reaches the controller, printed in every letter (e-mail, "
        "address, phone). Unset: the sender address (INNSYN_MAIL_FROM).",
    )
    dpo_contact: str | None = Field(
        default=None,
        max_length=500,
        description="The data protection officer's contact, printed in every letter when set.",
    )
    brand_name: str | None = Field(
        default=None,
        max_length=120,
        description="The company's name on the privacy centre and console (default: the "
        "controller's name).",
    )
    brand_colour: str = Field(
        default="#1f4e79",
        pattern=r"^#[0-9a-fA-F]{6}$",
        description="The pages' main colour (#rrggbb); keep it dark enough for white text.",
    )
    brand_logo_url: str | None = Field(
        default=None,
        pattern=r"^(https?://[^\s\"'<>]+|/[^\s\"'<>]*)$",
        description="The company's logo on the pages (an https URL or a path on this server).",
    )
    frame_ancestors: list[str] = Field(
        default_factory=list,
        description="Origins that may frame the privacy centre: its form and the pages a "
        "person goes on to from it (e.g. the company's own site, https://www.example.no); none "
        "by default. The console is never framed.",
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None,
        description="The privacy centre's client secret at the person's issuer (ID-porten); "
        "without it the log-in is a public client with PKCE. The client id is oidc_audience.",
    )
    staff_client_id: str | None = Field(
        default=None,
        description="The console's client id at the staff issuer (default: staff_audience).",
    )
    staff_client_secret: SecretStr | None = Field(
        default=None, description="The console's client secret at the staff issuer."
    )
    console_local_login: bool | None = Field(
        default=None,
        description="A one-click staff log-in on the console with the local signing key "
        "(default: on in development only; never with a staff issuer).",
    )
    verification_code_minutes: int = 15
    verification_max_attempts: int = 5
    verification_resend_seconds: int = 60
    verification_max_sends: int = Field(
        default=5,
        gt=0,
        description="Codes one request can be sent in all (the first and the resends): with "
        "verification_max_attempts tries each, this caps the guesses per request.",
    )
    unverified_close_days: int = 14
    received_at_horizon_days: int = Field(
        default=1096,
        ge=1,
        description="How far back staff may date a request's receipt (received_at): about "
        "three years. Older dates are refused as typing errors.",
    )

    connectors_file: Path | None = None
    connectors_strict: bool = Field(
        default=False,
        description="Fail at startup on a broken connector plugin or instance instead of "
        "listing it as broken.",
    )
    run_workers: bool = True
    worker_concurrency: int = 64
    lease_seconds: int = 30
    alert_days_before: list[int] = Field(default_factory=lambda: [7, 1])
    scheduler_interval_seconds: int = 60
    public_base_url: str = "http://127.0.0.1:8000"
    run_scheduler: bool = True
    hold_policies: list[HoldPolicy] = Field(
        default_factory=list,
        description='Own retention policies (JSON), e.g. [{"code": "chat_5y", "months": 60, ...}]',
    )
    webhooks_allow_private: bool = Field(
        default=False,
        description="Allow webhook URLs on private/loopback addresses (development, tests).",
    )
    webhook_timeout_seconds: float = 10.0
    purge_after_days: int = Field(
        default=30,
        description="Collected data and reports are deleted this long after a request ends.",
    )
    answer_link_days: int = Field(
        default=7,
        ge=1,
        le=90,
        description="How long a download link for the answer works; a new one is made when "
        "the person opens the status page after it expired (further copies are free, D11).",
    )
    restriction_lift_notice_days: int = Field(
        default=7,
        ge=0,
        le=28,
        description="Art. 18(3): days between telling the person and lifting a restriction, "
        "unless the approver gives another date.",
    )
    hold_recheck_hours: int = Field(
        default=24,
        gt=0,
        description="How often a connector is asked again whether a hold's condition (an "
        "unpaid invoice…) still holds; a hold it no longer finds ends.",
    )

    @field_validator("database_url")
    @classmethod
    def _driver_url(cls, value: str) -> str:
        """Accept the usual ``postgres://`` spellings and point them at asyncpg."""
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+asyncpg://" + value[len(prefix) :]
        return value

    @field_validator("frame_ancestors")
    @classmethod
    def _origins(cls, value: list[str]) -> list[str]:
        """Each one an origin (scheme, host, optional port): a CSP source list is parsed by
        browsers, so anything else could widen it."""
        for origin in value:
            if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?", origin):
                raise ValueError(
                    "INNSYN_FRAME_ANCESTORS: each entry is an origin such as https://www.example.no"
                )
        return value

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite+aiosqlite:///{self.var_dir / 'innsyn.db'}"
        if self.staff_jwks_url and not self.staff_issuer:
            # Without an issuer every token those keys sign (for any client) would be accepted.
            raise ValueError("INNSYN_STAFF_JWKS_URL needs INNSYN_STAFF_ISSUER: set both or neither")
        if self.env == "production":
            missing = [
                f"INNSYN_{name.upper()}"
                for name in PRODUCTION_REQUIRED
                if getattr(self, name) is None
            ]
            if missing:
                raise ValueError(
                    f"production needs {', '.join(missing)}: INNSYN_DATA_KEY and "
                    "INNSYN_AUDIT_KEY are 32 random bytes in urlsafe base64 from your secret "
                    "store; INNSYN_STAFF_ISSUER is your identity provider, which issues staff "
                    "tokens (INNSYN_SIGNING_KEY is for development only and is not used in "
                    "production)"
                )
        else:
            self._load_dev_secrets()
        if self.audit_key is not None and len(self.audit_key.get_secret_value()) < 32:
            raise ValueError("INNSYN_AUDIT_KEY must be at least 32 characters")
        return self

    def _load_dev_secrets(self) -> None:
        """Outside production, create and keep local keys so the CLI and the server agree."""
        if all(getattr(self, name) is not None for name in DEV_KEYS):
            return
        path = self.var_dir / DEV_SECRETS_FILE
        stored: dict[str, str] = {}
        if path.exists():
            stored = json.loads(path.read_text())
        if any(name not in stored for name in DEV_KEYS):
            stored.setdefault("signing_key", secrets.token_urlsafe(48))
            for name in ("data_key", "audit_key"):
                stored.setdefault(name, base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
            private_dir(self.var_dir)
            write_private(path, json.dumps(stored).encode())
        for name in DEV_KEYS:
            if getattr(self, name) is None:
                setattr(self, name, SecretStr(stored[name]))

    @property
    def local_login_allowed(self) -> bool:
        """The console's one-click log-in: development only, and never beside a real IdP."""
        if self.staff_issuer is not None or self.signing_key is None or self.env == "production":
            return False
        return (
            self.console_local_login
            if self.console_local_login is not None
            else (self.env == "development")
        )

    @property
    def nonce_required(self) -> bool:
        if self.oidc_require_nonce is not None:
            return self.oidc_require_nonce
        return self.env == "production"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def outbox_dir(self) -> Path:
        return self.var_dir / "outbox"


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's proxy settings: X-Forwarded-For is believed only from ``trusted_proxies``.
    uvicorn's own default trusts 127.0.0.1, so a local proxy would let any client pick the
    address every per-client limit counts."""
    if not settings.trusted_proxies:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": list(settings.trusted_proxies)}


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests build their own ``Settings`` instead."""
    return Settings()
