"""Plain words for what letters would otherwise show as codes: kinds, data categories,
systems, dates and month counts, in Norwegian (nb) and English (en). Pure data, no I/O."""

from __future__ import annotations

from datetime import date

KINDS: dict[str, tuple[str, str]] = {
    "access": ("innsyn i opplysningene dine", "access to your personal data"),
    "rectification": ("retting av opplysningene dine", "correction of your personal data"),
    "erasure": ("sletting av opplysningene dine", "erasure of your personal data"),
    "restriction": (
        "begrensning av behandlingen av opplysningene dine",
        "restriction of the processing of your personal data",
    ),
    "portability": (
        "å få utlevert opplysningene du har gitt oss, i et maskinlesbart format",
        "a copy of the data you gave us, in a machine-readable format",
    ),
    "objection": (
        "protest mot behandlingen av opplysningene dine",
        "objection to the processing of your personal data",
    ),
    "withdraw_consent": ("tilbaketrekking av samtykket ditt", "withdrawal of your consent"),
}

# Category names the built-in connectors and the demo use. Others are shown with spaces for
# underscores: give categories plain names in the connectors file.
CATEGORIES: dict[str, tuple[str, str]] = {
    "contact": ("kontaktopplysninger", "contact details"),
    "orders": ("bestillinger", "orders"),
    "support_notes": ("notater fra kundeservice", "customer service notes"),
    "marketing": ("markedsføring og nyhetsbrev", "marketing and newsletters"),
    "newsletter": ("nyhetsbrev", "newsletters"),
    "billing": ("betalingsopplysninger", "billing details"),
    "invoices": ("fakturaer", "invoices"),
    "master_data": ("grunndata om strømkunden", "electricity customer master data"),
    "metering_points": ("målepunkter for strøm", "electricity metering points"),
    "chat_contact": ("kontaktopplysninger i chatten", "chat contact details"),
    "chat_conversations": ("chatsamtaler", "chat conversations"),
    "chat_notes": ("notater i chatten", "chat notes"),
    "email_correspondence": ("e-postkorrespondanse", "e-mail correspondence"),
    "correspondence": ("korrespondanse", "correspondence"),
    "b2b_contact": (
        "rollen din som kontaktperson for en bedriftskunde",
        "your role as a business customer's contact person",
    ),
    "paper_contracts": ("kontrakter på papir", "paper contracts"),
}

SYSTEMS: dict[str, tuple[str, str]] = {
    "crm": ("kunderegisteret", "the customer register"),
    "billing": ("fakturasystemet", "the invoicing system"),
    "invoicing": ("fakturasystemet", "the invoicing system"),
    "intercom": ("chatten (Intercom)", "the chat (Intercom)"),
    "support-mailbox": ("kundeservice-e-posten", "the customer service mailbox"),
    "elhub": (
        "Elhub, det nasjonale registeret for strømkunder",
        "Elhub, the national electricity customer register",
    ),
    "paper-archive": ("papirarkivet", "the paper archive"),
    "newsletter": ("nyhetsbrevsystemet", "the newsletter system"),
}

_MONTH_NAMES = {
    "nb": [
        "januar",
        "februar",
        "mars",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "desember",
    ],
    "en": [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ],
}
_WEEKDAYS = {
    "nb": ["mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag"],
    "en": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}
_MONTH_COUNTS = {"nb": {1: "én måned", 2: "to måneder"}, "en": {1: "one month", 2: "two months"}}


def lang(language: str) -> str:
    """Letters are written in Norwegian unless the request asked for English."""
    return "en" if language == "en" else "nb"


def _pick(table: dict[str, tuple[str, str]], key: str, language: str) -> str | None:
    words = table.get(key)
    if words is None:
        return None
    return words[1] if lang(language) == "en" else words[0]


def kind(code: str, language: str) -> str:
    return _pick(KINDS, code, language) or code.replace("_", " ")


def category(code: str, language: str) -> str:
    return _pick(CATEGORIES, code, language) or code.replace("_", " ").replace("-", " ")


FIELDS: dict[str, tuple[str, str]] = {
    "name": ("navn", "name"),
    "billing_address": ("fakturaadresse", "billing address"),
    "address": ("adresse", "address"),
    "email": ("e-postadresse", "e-mail address"),
    "phone": ("telefonnummer", "phone number"),
    "amount": ("beløp", "amount"),
    "description": ("beskrivelse", "description"),
    "currency": ("valuta", "currency"),
}


def field(code: str, language: str) -> str:
    """A field (column) a hold keeps, in words."""
    return _pick(FIELDS, code, language) or code.replace("_", " ").replace("-", " ")


def system(name: str, language: str) -> str:
    return _pick(SYSTEMS, name, language) or name.replace("_", " ").replace("-", " ")


def long_date(day: date, language: str) -> str:
    """Wednesday 23 December 2026 / onsdag 23. desember 2026."""
    code = lang(language)
    weekday, month = _WEEKDAYS[code][day.weekday()], _MONTH_NAMES[code][day.month - 1]
    if code == "en":
        return f"{weekday} {day.day} {month} {day.year}"
    return f"{weekday} {day.day}. {month} {day.year}"


def months(count: int, language: str) -> str:
    code = lang(language)
    return _MONTH_COUNTS[code].get(count, f"{count} {'months' if code == 'en' else 'måneder'}")


def join(items: list[str], language: str) -> str:
    """a, b and c / a, b og c."""
    if len(items) <= 1:
        return "".join(items)
    word = "and" if lang(language) == "en" else "og"
    return f"{', '.join(items[:-1])} {word} {items[-1]}"
