"""Proven and claimed identifiers: which of a request's identifiers may find a person's data.

Identification is not authentication (EDPB 01/2022 § 58). A request carries identifiers the
form sent; verification *proves* some of them (an e-mail code proves that address, an ID token
its national id and the contacts its issuer verified, a staff attestation what the operator
checked). Only proven identifiers may widen a search; the rest are *claimed* and may only
narrow it. Pure rules: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class IdentifierKind(StrEnum):
    """The identifiers of a subject that can find data in a system."""

    email = "email"
    phone = "phone"
    national_id = "national_id"
    customer_ids = "customer_ids"


class ProofMethod(StrEnum):
    email_code = "email_code"  # a one-time code sent to the address was given back
    oidc = "oidc"  # an ID token from the trusted issuer
    staff = "staff"  # an operator checked the identifiers (named, or all: blanket)
    inherited = "inherited"  # a request the service filed itself, from a verified one


def present_kinds(subject: Mapping[str, Any]) -> frozenset[IdentifierKind]:
    """The kinds of identifier the subject (as filed) carries."""
    return frozenset(k for k in IdentifierKind if subject.get(k.value))


@dataclass(frozen=True)
class Proof:
    """One act of verification and the identifier kinds it proved."""

    method: ProofMethod
    kinds: frozenset[IdentifierKind]
    at: datetime
    blanket: bool = False  # staff vouched for every identifier without naming them
    issuer: str | None = None
    subject_hash: str | None = None  # keyed hash of the issuer's ``sub``: traceable, not clear

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "method": self.method.value,
            "kinds": sorted(k.value for k in self.kinds),
            "at": self.at.isoformat(),
        }
        if self.blanket:
            data["blanket"] = True
        if self.issuer:
            data["issuer"] = self.issuer
        if self.subject_hash:
            data["subject_hash"] = self.subject_hash
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Proof:
        return cls(
            method=ProofMethod(data["method"]),
            kinds=frozenset(IdentifierKind(k) for k in data.get("kinds", [])),
            at=datetime.fromisoformat(data["at"]),
            blanket=bool(data.get("blanket", False)),
            issuer=data.get("issuer"),
            subject_hash=data.get("subject_hash"),
        )


@dataclass(frozen=True)
class Identity:
    """Everything proven about a request's subject so far."""

    proofs: tuple[Proof, ...] = field(default_factory=tuple)

    @property
    def proven(self) -> frozenset[IdentifierKind]:
        kinds: set[IdentifierKind] = set()
        for proof in self.proofs:
            kinds |= proof.kinds
        return frozenset(kinds)

    def claimed(self, subject: Mapping[str, Any]) -> frozenset[IdentifierKind]:
        """Identifiers the subject carries that nothing has proven."""
        return present_kinds(subject) - self.proven

    def with_proof(self, proof: Proof) -> Identity:
        return Identity(proofs=(*self.proofs, proof))

    def satisfies(self, required: Iterable[IdentifierKind]) -> bool:
        """A system asking for one of ``required`` (nothing: any proof) may be searched."""
        wanted = frozenset(required)
        return not wanted or bool(wanted & self.proven)

    def as_json(self) -> dict[str, Any]:
        return {"proofs": [p.as_json() for p in self.proofs]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Identity:
        if not data:
            return cls()
        return cls(proofs=tuple(Proof.from_json(p) for p in data.get("proofs", [])))


def split(
    subject: Mapping[str, Any], proven: frozenset[IdentifierKind]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The subject's identifiers as (proven, claimed) mappings of the same shape."""
    proven_part: dict[str, Any] = {}
    claimed_part: dict[str, Any] = {}
    for kind in IdentifierKind:
        value = subject.get(kind.value)
        if not value:
            continue
        (proven_part if kind in proven else claimed_part)[kind.value] = value
    return proven_part, claimed_part


@dataclass(frozen=True)
class TokenIdentifiers:
    """What an ID token proves: its national id, and the contacts its issuer verified."""

    national_id: str | None = None
    email: str | None = None
    phone: str | None = None

    def by_kind(self) -> dict[IdentifierKind, str]:
        values = {
            IdentifierKind.national_id: self.national_id,
            IdentifierKind.email: self.email,
            IdentifierKind.phone: self.phone,
        }
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class Binding:
    """How an ID token relates to the subject a request names."""

    conflicts: frozenset[IdentifierKind]  # the token proves another value: another person
    proves: frozenset[IdentifierKind]  # the subject's identifiers the token proves
    adds: dict[IdentifierKind, str]  # proven by the token, absent from the subject

    @property
    def bound(self) -> bool:
        """The token belongs to the subject: it proves one of the subject's identifiers."""
        return not self.conflicts and bool(self.proves)


def _same(kind: IdentifierKind, a: str, b: str) -> bool:
    if kind is IdentifierKind.email:
        return a.strip().lower() == b.strip().lower()
    return a.strip() == b.strip()


def bind(subject: Mapping[str, Any], token: TokenIdentifiers) -> Binding:
    """Compare what the token proves with what the subject names (values already normalised)."""
    conflicts: set[IdentifierKind] = set()
    proves: set[IdentifierKind] = set()
    adds: dict[IdentifierKind, str] = {}
    for kind, value in token.by_kind().items():
        named = subject.get(kind.value)
        if not named:
            adds[kind] = value
        elif _same(kind, str(named), value):
            proves.add(kind)
        else:
            conflicts.add(kind)
    return Binding(frozenset(conflicts), frozenset(proves), adds)


def staff_checked(
    subject: Mapping[str, Any], checked: Iterable[str] | None
) -> tuple[frozenset[IdentifierKind], bool]:
    """The kinds a staff attestation proves, and whether it was blanket (nothing named).

    Raises:
        ValueError: a checked identifier the subject does not carry.
    """
    present = present_kinds(subject)
    if checked is None:
        return present, True
    kinds = frozenset(IdentifierKind(c) for c in checked)
    missing = kinds - present
    if missing:
        names = ", ".join(sorted(k.value for k in missing))
        raise ValueError(f"checked names identifiers the subject does not have: {names}")
    return kinds, False
