"""The words the person receives, in Norwegian (nb) or English (en), one whole language per
letter, in plain words (no codes), signed with the controller's name and contact.

The texts are Jinja2 templates shipped in the package (``templates/letters/{nb,en}``); this
module chooses the template and turns codes into words (``letter_words``). Letters are plain
text, so nothing is HTML-escaped; variables the templates do not get are errors
(``StrictUndefined``), never silent blanks. Staff free text (an extension reason, refusal
explanation, objection grounds) may be in another language: letters quote it as written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from app.domain import letter_words as words
from app.domain.refusals import REASONS, RefusalReason

_ENV = Environment(
    loader=PackageLoader("app.domain", "templates/letters"),
    undefined=StrictUndefined,
    autoescape=False,  # plain-text mail: nothing is interpreted as markup
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=False,
)
_QUOTES = {"nb": ("«", "»"), "en": ("\u201c", "\u201d")}


@dataclass(frozen=True)
class Letter:
    subject: str
    body: str


@dataclass(frozen=True)
class Controller:
    """Who answers: the company (the controller), how to reach it, and its DPO if any."""

    name: str | None = None
    contact: str | None = None
    dpo: str | None = None


@dataclass(frozen=True)
class KeptData:
    """One system's categories kept under a legal basis (for the completion letter)."""

    system: str
    categories: tuple[str, ...]
    explanation: str
    law: str
    until: date | None
    # Per category, the only fields kept (the rest of it was erased); others kept whole.
    fields: tuple[tuple[str, tuple[str, ...]], ...] = ()
    restricted: bool = False  # marked storage-only in that system until the hold ends


@dataclass(frozen=True)
class ErasedData:
    """One system's categories that were erased (for objection and consent letters)."""

    system: str
    categories: tuple[str, ...]


LETTERS = (
    "verification_code",
    "acknowledgement",
    "verification_needed",
    "extension",
    "refusal",
    "completion",
    "partial_refusal",
    "objection_outcome",
    "consent_outcome",
    "restriction",
    "objection_decision",
    "restriction_lift",
    "closed_unverified",
)


def render(name: str, language: str, **context: Any) -> Letter:
    """Render ``name`` in the letter's language; the first line is the subject."""
    code = words.lang(language)
    context.setdefault("controller", None)
    context.setdefault("request_id", None)
    controller = context["controller"] or Controller()
    text = _ENV.get_template(f"{code}/{name}.txt").render(
        **context | {"controller": controller},
        kind_words=lambda kind: words.kind(kind, code),
        category_words=lambda cats: words.join([words.category(c, code) for c in cats], code),
        fields_words=lambda fields: words.join([words.field(f, code) for f in fields], code),
        system_words=lambda name: words.system(name, code),
        systems_words=lambda names: words.join([words.system(n, code) for n in names], code),
        long_date=lambda day: words.long_date(day, code),
        months_words=lambda n: words.months(n, code),
        quote=lambda text: _quote(text, code),
    )
    subject, _, body = text.strip().partition("\n")
    return Letter(subject.strip(), re.sub(r"\n{3,}", "\n\n", body.strip()) + "\n")


def _quote(text: str, code: str) -> str:
    start, end = _QUOTES[code]
    return f"{start}{text.strip()}{end}"


def verification_code(
    language: str, code: str, minutes: int, *, controller: Controller | None = None
) -> Letter:
    return render("verification_code", language, code=code, minutes=minutes, controller=controller)


def acknowledgement(
    language: str,
    request_id: str,
    due: date,
    *,
    kind: str | None = None,
    status_url: str | None = None,
    controller: Controller | None = None,
) -> Letter:
    """D12: receipt confirmed, with the deadline as a date in words; a person who did not
    file the request themselves (staff did) gets the link to its status page here."""
    return render(
        "acknowledgement",
        language,
        request_id=request_id,
        due=due,
        kind=kind,
        status_url=status_url,
        controller=controller,
    )


def stronger_identity(
    language: str, request_id: str, systems: list[str], *, controller: Controller | None = None
) -> Letter:
    """Some systems need a stronger proof than the person gave: say which, and how to give it."""
    return render(
        "verification_needed",
        language,
        request_id=request_id,
        systems=systems,
        controller=controller,
    )


def extension(
    language: str,
    request_id: str,
    months: int,
    reason: str,
    due: date,
    *,
    controller: Controller | None = None,
) -> Letter:
    """Art. 12(3): the person is told of an extension, with reasons, within the first month."""
    return render(
        "extension",
        language,
        request_id=request_id,
        months=months,
        reason=reason,
        due=due,
        controller=controller,
    )


def refusal(
    language: str,
    request_id: str,
    code: RefusalReason,
    explanation: str,
    *,
    kind: str | None = None,
    controller: Controller | None = None,
) -> Letter:
    """Art. 12(4) and pol. § 16(2): reasons, the precise legal reference, and remedies."""
    reason = REASONS[code]
    return render(
        "refusal",
        language,
        request_id=request_id,
        kind=kind,
        reason=reason.text(words.lang(language)),
        law=reason.reference(words.lang(language)),
        explanation=explanation,
        controller=controller,
    )


def completion(
    language: str,
    request_id: str,
    kind: str,
    kept: list[KeptData],
    download: str | None,
    not_searched: list[str] | None = None,
    *,
    erased: Sequence[ErasedData] = (),
    suppressed: bool = False,
    status_url: str | None = None,
    controller: Controller | None = None,
    statement: str | None = None,
    not_possible: Sequence[tuple[str, str]] = (),
    refused_parts: Sequence[Mapping[str, str]] = (),
) -> Letter:
    """The answer: done, what was erased, what was kept and why (Art. 15(1)(d), 12(4), D9:
    keeping data is a partial refusal, with reasons and remedies), and what was left out.
    ``statement``: staff's answer when no system was searched; ``not_possible``: (system,
    reason) where the work could not be done (D9: partly not acting needs reasons)."""
    template = {
        "objection": "objection_outcome",
        "withdraw_consent": "consent_outcome",
        "restriction": "restriction",
    }.get(kind, "partial_refusal" if kept and kind == "erasure" else "completion")
    return render(
        template,
        language,
        request_id=request_id,
        kind=kind,
        kept=kept,
        erased=list(erased),
        suppressed=suppressed,
        download=bool(download),
        status_url=status_url,
        not_searched=not_searched or [],
        controller=controller,
        statement=statement,
        not_possible=list(not_possible),
        refused_parts=[dict(p) for p in refused_parts],
    )


def closed_unverified(
    language: str, request_id: str, days: int, *, controller: Controller | None = None
) -> Letter:
    """The request closes because nobody confirmed who made it: say so, and how to ask again."""
    return render(
        "closed_unverified", language, request_id=request_id, days=days, controller=controller
    )


def objection_decision(
    language: str,
    request_id: str,
    upheld: bool,
    grounds: str,
    *,
    controller: Controller | None = None,
) -> Letter:
    """Art. 21(1): the controller stops, or demonstrates compelling legitimate grounds."""
    return render(
        "objection_decision",
        language,
        request_id=request_id,
        upheld=upheld,
        grounds=grounds,
        controller=controller,
    )


def restriction_lift(
    language: str,
    request_id: str,
    reason: str,
    effective: date,
    *,
    controller: Controller | None = None,
) -> Letter:
    """Art. 18(3): the person is told before a restriction they obtained is lifted."""
    return render(
        "restriction_lift",
        language,
        request_id=request_id,
        reason=reason,
        effective=effective,
        controller=controller,
    )
