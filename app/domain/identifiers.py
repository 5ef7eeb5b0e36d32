"""Validation and normalisation of the identifiers we match data subjects on.

Normalised forms feed lookup hashing, so every spelling of the same identifier must map to one
string. Error messages never echo the value: it is personal data and would end up in logs.
"""

from __future__ import annotations

import re

from stdnum.no import orgnr

__all__ = [
    "InvalidIdentifier",
    "is_valid_fodselsnummer",
    "is_valid_orgnr",
    "normalise_email",
    "normalise_national_id",
    "normalise_phone",
]

_K1_WEIGHTS = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_K2_WEIGHTS = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
# From 1.1.2032 (rules.md §7) K1 is valid if (S1 + K1) mod 11 is one of these; before, only 0.
_K1_REMAINDERS_CLASSIC = frozenset({0})
_K1_REMAINDERS_2032 = frozenset({0, 1, 2, 3})

_ELEVEN_DIGITS = re.compile(r"[0-9]{11}")
_NATIONAL_ID_SEPARATORS = re.compile(r"[\s.\-]")
_PHONE_SEPARATORS = re.compile(r"[\s.\-()/]")
_DIGITS = re.compile(r"[0-9]+")

_D_NUMBER_DAY_OFFSET = 40
_H_NUMBER_MONTH_OFFSET = 40
_SYNTHETIC_MONTH_OFFSET = 80

_PHONE_MIN_DIGITS = 5
_PHONE_MAX_DIGITS = 15  # E.164
_NORWEGIAN_LOCAL_DIGITS = 8


class InvalidIdentifier(ValueError):
    """The value is not a usable identifier of the claimed kind."""


def _k1_remainder(digits: str) -> int:
    s1 = sum(w * int(d) for w, d in zip(_K1_WEIGHTS, digits[:9], strict=True))
    return (s1 + int(digits[9])) % 11


def _k2_is_valid(digits: str) -> bool:
    s2 = sum(w * int(d) for w, d in zip(_K2_WEIGHTS, digits[:10], strict=True))
    k2 = (11 - s2 % 11) % 11
    return k2 != 10 and k2 == int(digits[10])


def _has_plausible_date(digits: str) -> bool:
    """Day 1-31 and month 1-12 after undoing D/H/synthetic offsets.

    Deliberately loose: no century is derived and future dates pass, so the number stays valid
    whichever scheme (classic or 2032) issued it.
    """
    day, month = int(digits[0:2]), int(digits[2:4])
    if day > _D_NUMBER_DAY_OFFSET:
        day -= _D_NUMBER_DAY_OFFSET
    if month > _SYNTHETIC_MONTH_OFFSET:
        month -= _SYNTHETIC_MONTH_OFFSET
    elif month > _H_NUMBER_MONTH_OFFSET:
        month -= _H_NUMBER_MONTH_OFFSET
    return 1 <= day <= 31 and 1 <= month <= 12


def is_valid_fodselsnummer(value: str) -> bool:
    """True for a fødselsnummer, D-number, H-number or synthetic number (rules.md §7).

    Both K1 schemes are accepted, since numbers issued before and after 1.1.2032 coexist.
    """
    digits = value.replace(" ", "")
    if not _ELEVEN_DIGITS.fullmatch(digits):
        return False
    k1_ok = _k1_remainder(digits) in _K1_REMAINDERS_CLASSIC | _K1_REMAINDERS_2032
    return k1_ok and _k2_is_valid(digits) and _has_plausible_date(digits)


def is_valid_orgnr(value: str) -> bool:
    """True for a valid Norwegian organisasjonsnummer (9 digits, mod-11 check digit)."""
    return bool(orgnr.is_valid(value))


def normalise_national_id(value: str) -> str:
    """The 11 bare digits of a fødselsnummer/D-number, so formatted inputs hash alike."""
    digits = _NATIONAL_ID_SEPARATORS.sub("", value)
    if not is_valid_fodselsnummer(digits):
        raise InvalidIdentifier("not a valid Norwegian national identity number")
    return digits


def normalise_email(value: str) -> str:
    """Trimmed, lower-cased e-mail address, so lookups ignore case and stray whitespace."""
    return value.strip().lower()


def normalise_phone(value: str) -> str:
    """A phone number as ``+<digits>`` where the country is known, else bare digits.

    Formatting characters are dropped; ``00`` becomes ``+``; a bare 8-digit number is taken as
    Norwegian (+47). Anything other than digits, separators and a leading ``+`` is refused.
    """
    compact = _PHONE_SEPARATORS.sub("", value)
    has_plus = compact.startswith("+")
    digits = compact[1:] if has_plus else compact
    if not _DIGITS.fullmatch(digits):
        raise InvalidIdentifier("a phone number may only contain digits and separators")
    if not has_plus and digits.startswith("00"):
        has_plus, digits = True, digits[2:]
    elif not has_plus and len(digits) == _NORWEGIAN_LOCAL_DIGITS:
        has_plus, digits = True, "47" + digits
    if not _PHONE_MIN_DIGITS <= len(digits) <= _PHONE_MAX_DIGITS:
        raise InvalidIdentifier("a phone number must have between 5 and 15 digits")
    return f"+{digits}" if has_plus else digits
