"""Reason codes for refusing a request wholly or partly (Art. 12(4)-(5), pol. § 16).

Each code names the request kinds the law lets it refuse: personopplysningsloven § 16 limits
only the rights under Arts. 13-15, Art. 17(3) only erasure (and so the erasure that follows
a withdrawn consent or an objection), Art. 15(4) only a copy (and 20(4) a port). Refusing a
kind the code does not cover is a mistake the service rejects, not a letter it sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from app.domain.requests import RequestKind

_ALL = frozenset(RequestKind)
_ERASING = frozenset({RequestKind.erasure, RequestKind.withdraw_consent, RequestKind.objection})
_ERASURE = frozenset({RequestKind.erasure, RequestKind.withdraw_consent})


class RefusalReason(StrEnum):
    manifestly_unfounded = "manifestly_unfounded"
    excessive = "excessive"
    identity_not_established = "identity_not_established"
    third_party_rights = "third_party_rights"
    statutory_confidentiality = "statutory_confidentiality"
    internal_case_preparation = "internal_case_preparation"
    legal_obligation = "legal_obligation"
    legal_claims = "legal_claims"
    freedom_of_expression = "freedom_of_expression"
    public_health = "public_health"
    archiving_research = "archiving_research"
    accurate = "accurate"


@dataclass(frozen=True)
class ReasonText:
    legal_reference: str
    nb: str
    en: str
    legal_reference_en: str | None = None  # when the reference has Norwegian words in it
    kinds: frozenset[RequestKind] = field(default=_ALL)
    needs_evidence: bool = False  # the refusal must note what was checked

    def text(self, language: str) -> str:
        """The reason in plain words, in the letter's language."""
        return self.en if language == "en" else self.nb

    def reference(self, language: str) -> str:
        """The legal reference in the letter's language."""
        if language == "en" and self.legal_reference_en:
            return self.legal_reference_en
        return self.legal_reference


REASONS: dict[RefusalReason, ReasonText] = {
    RefusalReason.manifestly_unfounded: ReasonText(
        "GDPR art. 12(5)",
        "Forespørselen er åpenbart grunnløs.",
        "The request is manifestly unfounded.",
    ),
    RefusalReason.excessive: ReasonText(
        "GDPR art. 12(5)",
        "Forespørselen er urimelig, særlig fordi den gjentas.",
        "The request is excessive, in particular because of its repetitive character.",
    ),
    RefusalReason.identity_not_established: ReasonText(
        "GDPR art. 12(2) og 12(6)",
        "Vi har ikke kunnet bekrefte identiteten din.",
        "We have not been able to confirm your identity.",
        "GDPR art. 12(2) and 12(6)",
    ),
    RefusalReason.third_party_rights: ReasonText(
        "GDPR art. 15(4)",
        "Utlevering ville krenke andres rettigheter og friheter.",
        "Disclosure would adversely affect the rights and freedoms of others.",
        kinds=frozenset({RequestKind.access, RequestKind.portability}),
    ),
    RefusalReason.statutory_confidentiality: ReasonText(
        "personopplysningsloven § 16 første ledd bokstav d",
        "Opplysningene er underlagt lovbestemt taushetsplikt.",
        "The data is covered by a statutory duty of confidentiality.",
        "section 16(1)(d) of the Norwegian Personal Data Act (personopplysningsloven)",
        kinds=frozenset({RequestKind.access}),
    ),
    RefusalReason.internal_case_preparation: ReasonText(
        "personopplysningsloven § 16 første ledd bokstav e",
        "Opplysningene finnes bare i interne saksforberedende dokumenter.",
        "The data exists only in documents prepared for internal case preparation.",
        "section 16(1)(e) of the Norwegian Personal Data Act (personopplysningsloven)",
        kinds=frozenset({RequestKind.access}),
    ),
    RefusalReason.legal_obligation: ReasonText(
        "GDPR art. 17(3)(b)",
        "Vi har lovpålagt plikt til å oppbevare opplysningene.",
        "We are under a legal obligation to keep the data.",
        kinds=_ERASURE,
    ),
    RefusalReason.legal_claims: ReasonText(
        "GDPR art. 17(3)(e)",
        "Opplysningene er nødvendige for å fastsette, gjøre gjeldende eller forsvare rettskrav.",
        "The data is needed to establish, exercise or defend legal claims.",
        kinds=_ERASING,
    ),
    RefusalReason.freedom_of_expression: ReasonText(
        "GDPR art. 17(3)(a)",
        "Behandlingen er nødvendig for å utøve retten til ytrings- og informasjonsfrihet.",
        "The processing is necessary for exercising the right of freedom of expression and "
        "information.",
        kinds=_ERASURE,
    ),
    RefusalReason.public_health: ReasonText(
        "GDPR art. 17(3)(c)",
        "Behandlingen er nødvendig av hensyn til allmennhetens interesse på folkehelseområdet.",
        "The processing is necessary for reasons of public interest in the area of public health.",
        kinds=_ERASURE,
    ),
    RefusalReason.archiving_research: ReasonText(
        "GDPR art. 17(3)(d) og art. 89(1)",
        "Opplysningene behandles for arkivformål i allmennhetens interesse eller for forskning "
        "eller statistikk, og sletting ville gjøre dette umulig eller alvorlig skade det.",
        "The data is processed for archiving in the public interest, research or statistics, "
        "and erasure would make that impossible or seriously impair it.",
        "GDPR Art. 17(3)(d) and Art. 89(1)",
        kinds=_ERASURE,
    ),
    RefusalReason.accurate: ReasonText(
        "GDPR art. 16",
        "Vi har kontrollert opplysningene, og de er riktige. Du kan be om at en supplerende "
        "erklæring fra deg legges til.",
        "We have checked the data and it is accurate. You may ask us to add a supplementary "
        "statement from you.",
        kinds=frozenset({RequestKind.rectification}),
        needs_evidence=True,
    ),
}


def refusable(code: RefusalReason, kind: RequestKind) -> bool:
    """Whether ``code`` is a lawful reason to refuse a request of ``kind``."""
    return kind in REASONS[code].kinds


def kinds_for(code: RefusalReason) -> list[str]:
    """The request kinds ``code`` may refuse, in a stable order (for messages and docs)."""
    return [k.value for k in RequestKind if k in REASONS[code].kinds]
