"""Assertions and helpers the contract suite is built from; usable on their own too."""

from __future__ import annotations

import json
import random
import re
import secrets
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, SecretBytes, SecretStr

from app.connectors.protocol import (
    HOLD_BASIS_CODES,
    LANGUAGES,
    ChangeResult,
    CollectResult,
    DataCategory,
    ErasureOutcome,
    ErasureResult,
    HoldFinding,
    Identifiers,
    ManualWork,
    SubjectRef,
)
from app.domain.identifiers import is_valid_fodselsnummer

ART6_LETTER = re.compile(r"\b6\s*\(\s*1\s*\)\s*\(\s*([a-f])\s*\)")
SECRET_FIELD = re.compile(r"(^|_)(password|passwd|secret|token|api_?key|private_key)$")
KEPT = frozenset({ErasureOutcome.held, ErasureOutcome.not_erasable})
GONE = frozenset({ErasureOutcome.erased, ErasureOutcome.anonymised, ErasureOutcome.not_found})
_MIN_SECRET = 4


def check_categories(categories: Sequence[DataCategory]) -> None:
    """Every category states what an Art. 15(1) answer must say about it."""
    assert categories, "categories() must declare at least one DataCategory"
    names = [c.name for c in categories]
    assert len(names) == len(set(names)), f"category names repeat: {names}"
    for c in categories:
        assert isinstance(c, DataCategory), f"{c!r} is not a DataCategory"
        for fact in ("description", "purpose", "legal_basis", "retention", "source"):
            assert str(getattr(c, fact)).strip(), f"category {c.name}: `{fact}` is empty"
        letter = ART6_LETTER.search(c.legal_basis)
        assert letter, (
            f"category {c.name}: legal_basis {c.legal_basis!r} must cite GDPR 6(1)(a)-(f), "
            "e.g. 'GDPR 6(1)(b) contract'"
        )
        if c.consent_based:
            assert letter.group(1) == "a", f"category {c.name} is consent_based: cite 6(1)(a)"
        assert all(r.strip() for r in c.recipients), f"category {c.name}: blank recipient"
        assert c.automated_decisions is not None, (
            f"category {c.name}: declare `automated_decisions` (Art. 15(1)(h)), e.g. 'none'"
        )
        assert c.transfers is not None, (
            f"category {c.name}: declare `transfers` outside the EEA (Art. 15(2)); [] for none"
        )
        for lang, texts in c.translations.items():
            assert lang in LANGUAGES, f"category {c.name}: texts in unknown language {lang!r}"
            assert all(t.strip() for t in texts.values()), f"category {c.name}: blank {lang} text"


def check_manual(work: ManualWork) -> None:
    assert work.instructions.strip(), "ManualWork needs instructions"
    assert work.checklist, "ManualWork needs a checklist"
    assert all(item.strip() for item in work.checklist), "ManualWork has a blank checklist item"


def check_records(result: CollectResult, declared: Iterable[str]) -> None:
    """Records use declared categories, have unique ids per category and serialise to JSON."""
    known = set(declared)
    seen: set[tuple[str, str]] = set()
    for record in result.records:
        assert record.category in known, f"record in undeclared category {record.category!r}"
        key = (record.category, record.id)
        assert key not in seen, f"record id {record.id!r} repeats in {record.category!r}"
        seen.add(key)
        json.dumps(record.data, default=str)


def snapshot(result: CollectResult) -> list[tuple[str, str, str]]:
    """An order-insensitive fingerprint of collected data, to prove it did not change."""
    return sorted(
        (r.category, r.id, json.dumps(r.data, sort_keys=True, default=str)) for r in result.records
    )


def check_erasure(
    result: ErasureResult, requested: Sequence[str], codes: Iterable[str] = HOLD_BASIS_CODES
) -> set[str]:
    """Validate an erasure result; returns the categories that were kept (held/not erasable)."""
    known_codes = set(codes)
    assert isinstance(result, ErasureResult), f"erase returned {type(result).__name__}"
    reported = {entry.category for entry in result.categories}
    assert reported <= set(requested), f"erase reported unrequested {reported - set(requested)}"
    assert set(requested) <= reported, f"erase did not report {set(requested) - reported}"
    kept: set[str] = set()
    for entry in result.categories:
        assert entry.count >= 0, f"{entry.category}: negative count"
        if entry.outcome is ErasureOutcome.held:
            assert entry.basis_code in known_codes, (
                f"{entry.category}: held with basis {entry.basis_code!r}, "
                f"not one of {sorted(known_codes)}"
            )
        if entry.outcome is ErasureOutcome.not_erasable:
            assert (entry.reason or "").strip(), f"{entry.category}: not_erasable needs a reason"
        if entry.outcome in KEPT:
            kept.add(entry.category)
    return kept


def check_holds(
    findings: Sequence[HoldFinding],
    declared: Iterable[str],
    codes: Iterable[str] = HOLD_BASIS_CODES,
) -> None:
    known, known_codes = set(declared), set(codes)
    for finding in findings:
        assert isinstance(finding, HoldFinding), f"{finding!r} is not a HoldFinding"
        assert finding.basis_code in known_codes, (
            f"hold basis {finding.basis_code!r} is not in the catalogue {sorted(known_codes)}"
        )
        assert finding.categories, "a hold must name the categories it keeps"
        assert set(finding.categories) <= known, f"hold names undeclared {finding.categories}"
        assert finding.until is not None or (finding.condition or "").strip(), (
            "a hold needs an end: `until` or a `condition` the connector re-checks"
        )


def check_change(result: ChangeResult, declared: Iterable[str], allowed: set[str]) -> None:
    assert isinstance(result, ChangeResult), f"expected ChangeResult, got {type(result).__name__}"
    known = set(declared)
    for entry in result.categories:
        assert entry.category in known, f"change reported for undeclared {entry.category!r}"
        assert entry.outcome in allowed, f"{entry.category}: outcome {entry.outcome!r}"


def secret_values(*objects: object) -> list[str]:
    """Secret strings reachable from connectors: SecretStr/SecretBytes fields and URL passwords."""
    found: set[str] = set()
    for obj in objects:
        if obj is not None:
            _walk(obj, found, depth=0)
    return sorted(v for v in found if len(v) >= _MIN_SECRET)


def _walk(obj: object, found: set[str], depth: int) -> None:
    if depth > 4:
        return
    if isinstance(obj, SecretStr):
        found.add(obj.get_secret_value())
    elif isinstance(obj, SecretBytes):
        found.add(obj.get_secret_value().decode(errors="replace"))
    elif isinstance(obj, str):
        if "://" in obj:
            found.update(p for p in [_url_password(obj)] if p)
    elif isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            _walk(getattr(obj, name), found, depth + 1)
    elif isinstance(obj, dict):
        for value in obj.values():
            _walk(value, found, depth + 1)
    elif isinstance(obj, list | tuple | set | frozenset):
        for value in obj:
            _walk(value, found, depth + 1)
    elif hasattr(obj, "__dict__") and depth == 0:
        for value in vars(obj).values():
            _walk(value, found, depth + 1)


def _url_password(value: str) -> str | None:
    try:
        return urlsplit(value).password
    except ValueError:
        return None


def secret_like_fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    """Config fields whose names say "secret" but whose type is not SecretStr."""
    bad: list[str] = []
    for name, info in model.model_fields.items():
        text = repr(info.annotation)
        if SECRET_FIELD.search(name) and "Secret" not in text:
            bad.append(prefix + name)
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            bad += secret_like_fields(annotation, prefix=f"{prefix}{name}.")
    return bad


def identifiers_of(subject: SubjectRef) -> list[str]:
    """The strings that identify a person, for "never in logs / never in the other's data"."""
    values = [*subject.emails, *subject.phones, *subject.customer_ids.values()]
    values += [v for v in (subject.national_id, subject.name) if v]
    return [v for v in values if len(v) >= _MIN_SECRET]


def unknown_subject() -> SubjectRef:
    """A person no system holds: fresh e-mail, phone, a valid but random national id."""
    tag = secrets.token_hex(6)
    return SubjectRef(
        request_id=f"contract-{tag}",
        emails=[f"nobody-{tag}@example.invalid"],
        phones=[f"+479{random.randrange(10**6, 10**7)}"],
        national_id=random_fodselsnummer(),
        name=f"Nobody {tag}",
    )


def claiming(subject: SubjectRef, *, proven: str) -> SubjectRef:
    """Someone who proved only an identifier of a person nobody holds (``proven``: email,
    phone or national_id) and claims all of ``subject``'s identifiers: what an impostor's
    form sends. A connector must treat it as the nobody it proved to be."""
    nobody = unknown_subject()
    only = {
        "email": Identifiers(emails=nobody.emails),
        "phone": Identifiers(phones=nobody.phones),
        "national_id": Identifiers(national_id=nobody.national_id),
    }[proven]
    return SubjectRef(
        request_id=nobody.request_id, proven=only, claimed=subject.proven, name=subject.name
    )


def random_fodselsnummer() -> str:
    """A checksum-valid fødselsnummer (classic scheme) for a date in 1950-1999."""
    w1, w2 = (3, 7, 6, 1, 8, 9, 4, 5, 2), (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
    while True:
        born = date(1950, 1, 1) + timedelta(days=random.randrange(18_000))
        digits = born.strftime("%d%m%y") + f"{random.randrange(500):03d}"
        k1 = (11 - sum(int(d) * w for d, w in zip(digits, w1, strict=True)) % 11) % 11
        if k1 == 10:
            continue
        digits += str(k1)
        k2 = (11 - sum(int(d) * w for d, w in zip(digits, w2, strict=True)) % 11) % 11
        if k2 != 10 and is_valid_fodselsnummer(digits + str(k2)):
            return digits + str(k2)


def leaked(needles: Iterable[str], texts: Iterable[Any]) -> list[str]:
    """Which needles occur (case-insensitively) in any of the texts."""
    haystack = "\n".join(str(t) for t in texts).lower()
    return sorted({n for n in needles if n and n.lower() in haystack})
