"""Binding the person's ID token to a request: what it proves, and only once.

A token from the trusted issuer proves who logged in, not who the request is about. It
verifies a request only when it proves one of the identifiers the request names and
contradicts none; it is remembered until it expires, so it verifies one request only; every
refusal is audited with the issuer and a keyed hash of the token's ``sub``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db.models import UsedIdToken
from app.domain import identity
from app.domain.errors import InvalidInput, VerificationFailed
from app.domain.identifiers import InvalidIdentifier, normalise_national_id
from app.domain.identity import Binding, Proof, ProofMethod, TokenIdentifiers
from app.infra.crypto import token_hash
from app.runtime import Runtime
from app.security import InvalidToken, Principal, VerifiedIdentity
from app.services import failed_attempts


@dataclass(frozen=True)
class CheckedToken:
    """A verified token and how it relates to the subject."""

    token: VerifiedIdentity
    binding: Binding
    subject_hash: str

    def proof(self, at: datetime) -> Proof:
        return Proof(
            method=ProofMethod.oidc,
            kinds=self.binding.proves | frozenset(self.binding.adds),
            at=at,
            issuer=self.token.issuer,
            subject_hash=self.subject_hash,
        )

    def audit_detail(self) -> dict[str, Any]:
        return {"method": "oidc", "issuer": self.token.issuer, "subject_hash": self.subject_hash}


def subject_hash(rt: Runtime, token: VerifiedIdentity) -> str:
    """Who logged in, traceable by staff who hold the key, unreadable to anyone else."""
    return rt.cipher.lookup_hash(f"{token.issuer}\n{token.subject}", kind="oidc-sub")


async def check(
    rt: Runtime,
    session: AsyncSession,
    *,
    raw_token: str,
    nonce: str | None,
    subject: dict[str, Any],
    principal: Principal,
    request_id: str | None = None,
) -> CheckedToken:
    """Verify the token and compare it with the subject. Refusals are audited and raised.

    Raises:
        InvalidInput: ID tokens are not configured.
        VerificationFailed: the token is forged, expired, replayed, without the nonce the
            form used, or it belongs to another person than the subject.
    """
    if rt.id_tokens is None:
        raise InvalidInput("id_token verification is not configured", field="id_token")
    if nonce is None and rt.settings.nonce_required:
        _refuse(rt, session, principal, request_id, "nonce_missing", {})
        raise VerificationFailed(
            "send id_token_nonce: the nonce the form sent to the identity provider"
        )
    try:
        token = await rt.id_tokens.verify(raw_token, nonce=nonce)
        pid = normalise_national_id(token.national_id) if token.national_id else None
    except (InvalidToken, InvalidIdentifier) as exc:
        _refuse(rt, session, principal, request_id, "rejected", {})
        raise VerificationFailed(f"the ID token was not accepted: {exc}") from None
    checked = CheckedToken(
        token=token,
        binding=identity.bind(
            subject, TokenIdentifiers(national_id=pid, email=token.email, phone=token.phone)
        ),
        subject_hash=subject_hash(rt, token),
    )
    if checked.binding.conflicts:
        kinds = sorted(k.value for k in checked.binding.conflicts)
        _refuse(rt, session, principal, request_id, "mismatch", checked.audit_detail())
        raise VerificationFailed(
            "the ID token belongs to another person than the one the request is about",
            conflicting=kinds,
        )
    if await session.get(UsedIdToken, _token_key(token)) is not None:
        _refuse(rt, session, principal, request_id, "replayed", checked.audit_detail())
        raise VerificationFailed("this ID token was already used; log in again for a new one")
    return checked


async def remember(
    rt: Runtime, session: AsyncSession, token: VerifiedIdentity, request_id: str
) -> None:
    """Mark the token used (until it expires), in the transaction that relies on it; tokens
    that expired are forgotten on the way."""
    now = rt.clock.now()
    await session.exec(delete(UsedIdToken).where(col(UsedIdToken.expires_at) < now))
    session.add(
        UsedIdToken(
            token_hash=_token_key(token),
            request_id=request_id,
            expires_at=max(now, datetime.fromtimestamp(token.expires_at, tz=UTC)),
        )
    )
    await session.flush()


def _token_key(token: VerifiedIdentity) -> str:
    return token_hash(f"{token.issuer}\n{token.token_id}")


def _refuse(
    rt: Runtime,
    session: AsyncSession,
    principal: Principal,
    request_id: str | None,
    reason: str,
    detail: dict[str, Any],
) -> None:
    """Keep the record of a refused token although the call itself fails."""
    failed_attempts.record(
        rt,
        session,
        principal,
        "verification.id_token_rejected",
        request_id=request_id,
        detail={"reason": reason, **detail},
    )
