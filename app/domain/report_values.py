"""Values in the answer as a person reads them: dates as dates, amounts as amounts, markup
as plain text, lists as lists. Pure formatting (Babel), no I/O."""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal

from app.domain.letter_words import lang

OSLO = ZoneInfo("Europe/Oslo")
LOCALES = {"nb": "nb_NO", "en": "en_GB"}
YES_NO = {"nb": ("ja", "nei"), "en": ("yes", "no")}
EMPTY = {"nb": "(tomt)", "en": "(empty)"}

_AMOUNT = re.compile(r"(^|_)(total|amount|sum|price|balance|paid_amount|vat|fee)$")
_DATE = re.compile(r"(^|_)(at|date|time|created|updated|due|sent|received|paid_on|timestamp)$")
_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"<\s*(br|/p|/div|/li)\s*/?>", re.IGNORECASE)
# Unix seconds between 2001 and 2100: a number that large in a date field is a timestamp.
_UNIX_MIN, _UNIX_MAX = 1_000_000_000, 4_102_444_800


def locale(language: str) -> str:
    return LOCALES[lang(language)]


def as_date(value: date, language: str) -> str:
    """31. desember 2031 / 31 December 2031."""
    return format_date(value, format="long", locale=locale(language))


def as_datetime(value: datetime, language: str) -> str:
    local = value.astimezone(OSLO) if value.tzinfo else value
    return (
        format_datetime(local, format="d. MMMM y 'kl.' HH:mm", locale=locale(language))
        if (lang(language) == "nb")
        else format_datetime(local, format="d MMMM y, HH:mm", locale=locale(language))
    )


def as_amount(value: Decimal, language: str, currency: str | None) -> str:
    if currency and re.fullmatch(r"[A-Z]{3}", currency):
        # en_GB glues a foreign code to the number ("NOK980.00"): keep them apart
        pattern = "¤\xa0#,##0.00" if lang(language) == "en" else None
        return format_currency(value, currency, format=pattern, locale=locale(language))
    return format_decimal(value, format="#,##0.00", locale=locale(language))


def as_size(size: int, language: str) -> str:
    """A file size for a person: ``1,2 MB`` (nb), ``1.2 MB`` (en); decimal units."""
    for unit, step in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if size >= step:
            return f"{format_decimal(round(size / step, 1), locale=locale(language))} {unit}"
    return f"{size} B"


def plain_text(value: str) -> str:
    """Markup from a source system (a chat message in HTML) shown as the text it carries."""
    if "<" not in value or ">" not in value:
        return value
    text = _TAG.sub("", _BREAK.sub("\n", value))
    return html.unescape(text).strip()


def _parse_time(value: Any) -> date | datetime | None:
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if _UNIX_MIN <= value <= _UNIX_MAX:
            return datetime.fromtimestamp(value, tz=OSLO)
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return _parse_time(int(text))
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def _parse_amount(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value.strip().replace(" ", ""))
        except InvalidOperation:
            return None
    return None


def show(field: str, value: Any, language: str, *, currency: str | None = None) -> str:
    """One value as text: the field's name tells whether a number is an amount or a time."""
    key = field.lower()
    if value is None or value == "":
        return EMPTY[lang(language)]
    if isinstance(value, bool):
        yes, no = YES_NO[lang(language)]
        return yes if value else no
    if _DATE.search(key):
        when = _parse_time(value)
        if isinstance(when, datetime):
            return as_datetime(when, language)
        if isinstance(when, date):
            return as_date(when, language)
    if _AMOUNT.search(key):
        amount = _parse_amount(value)
        if amount is not None:
            return as_amount(amount, language, currency)
    if isinstance(value, datetime):
        return as_datetime(value, language)
    if isinstance(value, date):
        return as_date(value, language)
    if isinstance(value, list):
        return "; ".join(show(field, v, language, currency=currency) for v in value)
    if isinstance(value, dict):
        return "; ".join(
            f"{k}: {show(str(k), v, language, currency=currency)}" for k, v in value.items()
        )
    return plain_text(str(value))
