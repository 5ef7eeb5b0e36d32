"""Reason codes for refusing a request wholly or partly (Art. 12(4)-(5), pol. § 16)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RefusalReason(StrEnum):
    manifestly_unfounded = "manifestly_unfounded"
    excessive = "excessive"
    identity_not_established = "identity_not_established"
    third_party_rights = "third_party_rights"
    statutory_confidentiality = "statutory_confidentiality"
    internal_case_preparation = "internal_case_preparation"
    legal_obligation = "legal_obligation"
    legal_claims = "legal_claims"


@dataclass(frozen=True)
class ReasonText:
    legal_reference: str
    nb: str
    en: str
    legal_reference_en: str | None = None  # when the reference has Norwegian words in it

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
    ),
    RefusalReason.statutory_confidentiality: ReasonText(
        "personopplysningsloven § 16 første ledd bokstav d",
        "Opplysningene er underlagt lovbestemt taushetsplikt.",
        "The data is covered by a statutory duty of confidentiality.",
        "section 16(1)(d) of the Norwegian Personal Data Act (personopplysningsloven)",
    ),
    RefusalReason.internal_case_preparation: ReasonText(
        "personopplysningsloven § 16 første ledd bokstav e",
        "Opplysningene finnes bare i interne saksforberedende dokumenter.",
        "The data exists only in documents prepared for internal case preparation.",
        "section 16(1)(e) of the Norwegian Personal Data Act (personopplysningsloven)",
    ),
    RefusalReason.legal_obligation: ReasonText(
        "GDPR art. 17(3)(b)",
        "Vi har lovpålagt plikt til å oppbevare opplysningene.",
        "We are under a legal obligation to keep the data.",
    ),
    RefusalReason.legal_claims: ReasonText(
        "GDPR art. 17(3)(e)",
        "Opplysningene er nødvendige for å fastsette, gjøre gjeldende eller forsvare rettskrav.",
        "The data is needed to establish, exercise or defend legal claims.",
    ),
}
