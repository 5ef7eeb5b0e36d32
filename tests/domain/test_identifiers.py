"""Identifier rules of rules.md §7. Vectors with no source there were computed by hand (§7 sums)."""

from __future__ import annotations

import pytest

from app.domain.identifiers import (
    InvalidIdentifier,
    is_valid_fodselsnummer,
    is_valid_orgnr,
    normalise_email,
    normalise_national_id,
    normalise_phone,
)

VALID_NATIONAL_IDS = [
    # rules.md §7: valid under both schemes ((S1 + K1) mod 11 == 0)
    "02013299997",
    "30108299920",
    # rules.md §7: valid only under the 2032 rule ((S1 + K1) mod 11 == 1 and 2)
    "30108299939",
    "02013299903",
    # 15.05.85, individual number 101; (S1 + K1) mod 11 == 0, 1, 2 respectively
    "15058510170",
    "15058510189",
    "15058510197",
    # D-number (day 15 + 40), H-number (month 5 + 40), synthetic (month 5 + 80)
    "55058510083",
    "15458510072",
    "15858510055",
    # spaces are ignored
    "020132 99997",
    " 02013299997 ",
]


@pytest.mark.parametrize("value", VALID_NATIONAL_IDS)
def test_valid_fodselsnummer(value: str) -> None:
    assert is_valid_fodselsnummer(value)


INVALID_NATIONAL_IDS = [
    # bad K1: (S1 + K1) mod 11 == 4 and 9 (outside both schemes), K2 correct for each
    "15058510103",
    "15058510154",
    # bad K2
    "02013299998",
    "30108299921",
    "15058510171",
    # prefix 1505851012 has K2 == 10: no last digit can be right
    "15058510120",
    "15058510129",
    # swapped digits
    "20013299997",
    # lengths
    "",
    "0201329999",
    "020132999970",
    # letters and non-ASCII digits
    "0201329999A",
    "ABCDEFGHIJK",
    "\uff10\uff12\uff10\uff11\uff13\uff12\uff19\uff19\uff19\uff19\uff17",  # full-width digits
    # checksums fine, but the date is impossible: day 32, month 13, day 00, month 00, day 72
    "32058510024",
    "15138510058",
    "00058510033",
    "15008510110",
    "72558510049",
]


@pytest.mark.parametrize("value", INVALID_NATIONAL_IDS)
def test_invalid_fodselsnummer(value: str) -> None:
    assert not is_valid_fodselsnummer(value)


def test_fodselsnummer_future_birth_date_is_not_refused() -> None:
    # 02.01.32 with individual number 999 decodes to 2032 under the old century table.
    assert is_valid_fodselsnummer("02013299997")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("02013299997", "02013299997"),
        ("020132 99997", "02013299997"),
        ("02.01.32-99997", "02013299997"),
        ("020132-99903", "02013299903"),
        ("\t550585\u00a010083\n", "55058510083"),
    ],
)
def test_normalise_national_id(value: str, expected: str) -> None:
    assert normalise_national_id(value) == expected


@pytest.mark.parametrize("value", ["02013299998", "0201329999", "02013299997x", ""])
def test_normalise_national_id_rejects_invalid(value: str) -> None:
    with pytest.raises(InvalidIdentifier) as excinfo:
        normalise_national_id(value)
    assert isinstance(excinfo.value, ValueError)
    # the message must not leak the (personal) value into logs
    if value:
        assert value not in str(excinfo.value)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("974760673", True),
        ("923609016", True),
        ("974 760 673", True),
        ("974760674", False),
        ("923609017", False),
        ("97476067", False),
        ("9747606730", False),
        ("97476067A", False),
        ("", False),
    ],
)
def test_is_valid_orgnr(value: str, valid: bool) -> None:
    assert is_valid_orgnr(value) is valid


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ola.nordmann@example.no", "ola.nordmann@example.no"),
        ("  Ola.Nordmann@Example.NO \n", "ola.nordmann@example.no"),
        ("ÅSE@EKSEMPEL.NO", "åse@eksempel.no"),
    ],
)
def test_normalise_email(value: str, expected: str) -> None:
    assert normalise_email(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("91234567", "+4791234567"),
        ("912 34 567", "+4791234567"),
        ("91 23 45 67", "+4791234567"),
        ("+47 912 34 567", "+4791234567"),
        ("+4791234567", "+4791234567"),
        ("0047 912 34 567", "+4791234567"),
        ("0047-91234567", "+4791234567"),
        ("+1 (555) 123-4567", "+15551234567"),
        ("0046 70 123 45 67", "+46701234567"),
        ("12345", "12345"),  # short numbers keep no country
        ("123456789", "123456789"),  # not 8 digits: country unknown
        ("+123456789012345", "+123456789012345"),  # 15 digits: E.164 maximum
    ],
)
def test_normalise_phone(value: str, expected: str) -> None:
    assert normalise_phone(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "+",
        "1234",  # too short
        "+47 12",  # too short
        "+1234567890123456",  # 16 digits
        "0012",  # 2 digits after the international prefix
        "phone",
        "91234567 ext 2",
        "+47+91234567",
        "912345\uff167",  # full-width digit
    ],
)
def test_normalise_phone_rejects_invalid(value: str) -> None:
    with pytest.raises(InvalidIdentifier):
        normalise_phone(value)
