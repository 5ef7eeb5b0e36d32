"""Every letter, in both languages: one whole language, plain words, no raw codes.

Each template is rendered through the public functions of ``app.domain.letters`` with the
real hold catalogue and every refusal reason and request kind. Quoted text (staff free text,
Norwegian statute citations in English letters) is the one place another language may appear,
so it is left out of the language check.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from app.domain import letters
from app.domain.holds import CATALOGUE
from app.domain.refusals import RefusalReason
from app.domain.requests import RequestKind

CONTROLLER = letters.Controller(
    name="Motkraft AS", contact="hei@motkraft.no, Oslo", dpo="personvernombud@motkraft.no"
)
STATUS = "https://innsyn.example/v1/requests/req_01/status?token=abc"
FREE_TEXT = {"nb": "dataene ligger i mange systemer", "en": "the data is spread over many systems"}
SYSTEMS = ["crm", "billing", "support-mailbox", "elhub", "paper-archive", "intercom"]
CATEGORY_CODES = [
    "contact",
    "orders",
    "support_notes",
    "marketing",
    "billing",
    "invoices",
    "master_data",
    "metering_points",
    "chat_contact",
    "chat_conversations",
    "chat_notes",
    "email_correspondence",
    "b2b_contact",
]

ENGLISH = {
    "the",
    "and",
    "of",
    "your",
    "you",
    "we",
    "our",
    "are",
    "with",
    "because",
    "request",
    "requests",
    "data",
    "until",
    "while",
    "please",
    "been",
    "not",
    "will",
    "this",
    "that",
    "which",
    "what",
    "when",
    "where",
    "who",
    "there",
    "here",
    "kept",
    "erased",
    "deadline",
    "month",
    "months",
    "reference",
    "code",
    "time",
    "court",
    "complaint",
}
NORWEGIAN = {
    "og",
    "ikke",
    "vi",
    "du",
    "har",
    "til",
    "av",
    "på",
    "fra",
    "eller",
    "din",
    "dine",
    "deg",
    "oss",
    "opplysninger",
    "opplysningene",
    "forespørsel",
    "forespørselen",
    "fristen",
    "måned",
    "måneder",
    "med",
    "som",
    "er",
    "det",
    "den",
    "hilsen",
    "saksnummer",
    "begrensning",
    "sletting",
    "innsyn",
    "klage",
    "vennlig",
    "senest",
    "slettet",
    "beholder",
}
QUOTED = re.compile(r"«[^»]*»|\u201c[^\u201d]*\u201d")
URL = re.compile(r"https?://\S+")
REFERENCE = re.compile(r"\breq_\w+")
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def kept(language: str) -> list[letters.KeptData]:
    return [
        letters.KeptData(
            system=SYSTEMS[i % len(SYSTEMS)],
            categories=tuple(CATEGORY_CODES[i % 5 : i % 5 + 2]),
            explanation=basis.explain(language),
            law=basis.law,
            until=date(2031, 12, 31) if i % 2 else None,
        )
        for i, basis in enumerate(CATALOGUE)
    ]


def every_letter(language: str) -> list[tuple[str, letters.Letter]]:
    due = date(2026, 12, 23)
    erased = [letters.ErasedData("crm", ("marketing", "contact"))]
    out = [
        ("verification_code", letters.verification_code(language, "123456", 15)),
        ("verification_needed", letters.stronger_identity(language, "req_01", SYSTEMS[:4])),
        ("extension", letters.extension(language, "req_01", 1, FREE_TEXT["en"], due)),
        ("extension-2", letters.extension(language, "req_01", 2, FREE_TEXT["nb"], due)),
        ("closed_unverified", letters.closed_unverified(language, "req_01", 14)),
        ("restriction_lift", letters.restriction_lift(language, "req_01", FREE_TEXT["en"], due)),
    ]
    for upheld in (True, False):
        letter = letters.objection_decision(language, "req_01", upheld, FREE_TEXT["en"])
        out.append((f"objection_decision-{upheld}", letter))
    for kind in RequestKind:
        for status_url in (None, STATUS):
            letter = letters.acknowledgement(
                language, "req_01", due, kind=kind.value, status_url=status_url
            )
            out.append((f"acknowledgement-{kind.value}", letter))
        for reason in RefusalReason:
            letter = letters.refusal(language, "req_01", reason, FREE_TEXT["en"], kind=kind.value)
            out.append((f"refusal-{kind.value}-{reason.value}", letter))
        for keep in ([], kept(language)):
            for download in (None, "https://innsyn.example/v1/requests/req_01/report"):
                letter = letters.completion(
                    language,
                    "req_01",
                    kind.value,
                    keep,
                    download,
                    ["elhub"],
                    erased=erased,
                    suppressed=kind is RequestKind.objection,
                    controller=CONTROLLER,
                )
                out.append((f"completion-{kind.value}-{bool(keep)}-{bool(download)}", letter))
        by_hand = letters.completion(  # nothing searched, or a system's work not possible
            language,
            "req_01",
            kind.value,
            [],
            None,
            statement=FREE_TEXT["en"],
            not_possible=[("paper-archive", FREE_TEXT["nb"])],
            controller=CONTROLLER,
        )
        out.append((f"completion-{kind.value}-by-hand", by_hand))
    return out


def own_words(letter: letters.Letter) -> list[str]:
    """The words the letter says itself: quotations, links and the reference left out."""
    text = REFERENCE.sub(" ", URL.sub(" ", QUOTED.sub(" ", f"{letter.subject}\n{letter.body}")))
    return re.findall(r"[a-zæøåA-ZÆØÅ]+", text.lower())


def test_every_template_is_rendered_in_both_languages():
    folder = Path(letters.__file__).parent / "templates" / "letters"
    for language in ("nb", "en"):
        names = {p.stem for p in (folder / language).glob("*.txt") if not p.stem.startswith("_")}
        assert names == set(letters.LETTERS)
    subjects = {letter.subject for _, letter in every_letter("en")}
    assert {
        "Your request has been partly carried out",  # partial_refusal
        "Answer to your objection",  # objection_outcome, objection_decision
        "Your consent is withdrawn",  # consent_outcome
        "The processing of your data is restricted",  # restriction
        "Your request is completed",  # completion
        "We have closed your request",  # closed_unverified
    } <= subjects


@pytest.mark.parametrize("language", ["nb", "en"])
def test_letters_are_in_one_language(language):
    foreign = ENGLISH if language == "nb" else NORWEGIAN
    for name, letter in every_letter(language):
        words = set(own_words(letter))
        assert not words & foreign, f"{language} {name}: {sorted(words & foreign)}\n{letter.body}"


@pytest.mark.parametrize("language", ["nb", "en"])
def test_letters_show_no_codes(language):
    slugs = {k.value for k in RequestKind} | {r.value for r in RefusalReason}
    slugs |= {b.code for b in CATALOGUE} | set(CATEGORY_CODES)
    for name, letter in every_letter(language):
        text = REFERENCE.sub(" ", URL.sub(" ", f"{letter.subject}\n{letter.body}"))
        assert "{" not in text and "}" not in text, name
        assert "None" not in text, name
        assert not SNAKE.findall(text), f"{name}: {SNAKE.findall(text)}"
        assert not re.search(r"\w\((er|s)\)", text), f"{name}: a plural in brackets"
        assert not re.search(r"\((" + "|".join(sorted(slugs)) + r")\)", text), name
        assert "<" not in text, f"{name}: a placeholder"
        assert not re.search(r"(?<!FOR-)\b\d{4}-\d{2}-\d{2}\b", text), f"{name}: an ISO date"


def test_staff_free_text_is_quoted_not_mixed_in():
    letter = letters.extension(
        "nb", "req_01", 1, "the data is spread over many systems", date(2027, 1, 25)
    )
    assert "«the data is spread over many systems»" in letter.body
    assert "én måned" in letter.body and "måned(er)" not in letter.body
    assert "mandag 25. januar 2027" in letter.body
    english = letters.extension("en", "req_01", 2, "mange systemer", date(2027, 1, 25))
    assert "\u201cmange systemer\u201d" in english.body and "two months" in english.body


def test_kept_data_is_told_in_plain_words():
    basis = next(b for b in CATALOGUE if b.code == "bookkeeping_primary")
    item = letters.KeptData(
        "billing", ("billing", "invoices"), basis.explain("nb"), basis.law, date(2031, 12, 31)
    )
    letter = letters.completion("nb", "req_01", "erasure", [item], None)
    assert "betalingsopplysninger og fakturaer" in letter.body
    assert "billing: billing, invoices" not in letter.body
    assert "onsdag 31. desember 2031" in letter.body
    assert "Datatilsynet" in letter.body and "domstolene" in letter.body
    assert letter.subject == "Forespørselen din er delvis imøtekommet"


def test_controller_signs_every_letter():
    for language in ("nb", "en"):
        letter = letters.closed_unverified(language, "req_01", 14, controller=CONTROLLER)
        assert "Motkraft AS" in letter.body
        assert "hei@motkraft.no, Oslo" in letter.body
        assert "personvernombud@motkraft.no" in letter.body


def test_the_status_link_replaces_the_placeholder():
    letter = letters.completion("en", "req_01", "access", [], "https://x/report", status_url=STATUS)
    assert STATUS in letter.body and "token=<" not in letter.body
    without = letters.completion("en", "req_01", "access", [], "https://x/report")
    assert "token=" not in without.body and "status page" in without.body
