"""The privacy centre's request form: which rights it offers, which fields each right needs,
and the request body a filled-in form becomes. Pure rules, no I/O; the identifiers and the
e-mail address are then checked by the same request schema the API uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from app.domain.objections import DIRECT_MARKETING
from app.domain.requests import RequestKind

# In the order a person most often needs them.
RIGHTS: tuple[RequestKind, ...] = (
    RequestKind.access,
    RequestKind.rectification,
    RequestKind.erasure,
    RequestKind.restriction,
    RequestKind.portability,
    RequestKind.objection,
    RequestKind.withdraw_consent,
)
# What a person may object to: direct marketing (absolute, Art. 21(2)) and processing on the
# company's legitimate interest (Art. 21(1), decided by an approver).
LEGITIMATE_INTERESTS = "legitimate_interests"
PURPOSES: tuple[str, ...] = (DIRECT_MARKETING, LEGITIMATE_INTERESTS)
# Rows of "what is wrong / what it should be" the form shows for a rectification.
CHANGE_ROWS = 3


@dataclass(frozen=True)
class FormValues:
    """What the person typed, as typed (kept to show the form again)."""

    right: str = ""
    email: str = ""
    name: str = ""
    phone: str = ""
    national_id: str = ""
    changes: tuple[tuple[str, str], ...] = ()
    purposes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "right": self.right,
            "email": self.email,
            "name": self.name,
            "phone": self.phone,
            "national_id": self.national_id,
            "changes": [list(pair) for pair in self.changes],
            "purposes": list(self.purposes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FormValues:
        changes = data.get("changes") or []
        return cls(
            right=str(data.get("right", "")),
            email=str(data.get("email", "")),
            name=str(data.get("name", "")),
            phone=str(data.get("phone", "")),
            national_id=str(data.get("national_id", "")),
            changes=tuple(
                (str(pair[0]), str(pair[1])) for pair in changes if isinstance(pair, list | tuple)
            ),
            purposes=tuple(str(p) for p in data.get("purposes") or []),
        )


@dataclass(frozen=True)
class Checked:
    """The request body (for ``RequestCreate``) and the fields to fix: field -> word key."""

    body: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)


def preselect(right: str | None) -> str:
    """``?right=erasure`` from a link: a right the form offers, or none."""
    return right if right in {r.value for r in RIGHTS} else ""


def check(values: FormValues, language: str) -> Checked:
    """The rules the form itself holds; the schema checks the identifiers' shapes after."""
    errors: dict[str, str] = {}
    if values.right not in {r.value for r in RIGHTS}:
        errors["right"] = "error_right"
    if not values.email:
        errors["email"] = "error_email_missing"
    changes = {wrong: right for wrong, right in values.changes if wrong or right}
    if values.right == RequestKind.rectification.value:
        if not changes:
            errors["change_what_1"] = "error_changes_missing"
        elif any(not k or not v for k, v in changes.items()):
            errors["change_what_1"] = "error_changes_incomplete"
    purposes = [p for p in values.purposes if p in PURPOSES]
    if values.right == RequestKind.objection.value and not purposes:
        errors["purpose-" + DIRECT_MARKETING] = "error_purposes_missing"
    subject: dict[str, Any] = {"email": values.email}
    for name in ("name", "phone", "national_id"):
        if getattr(values, name):
            subject[name] = getattr(values, name)
    details: dict[str, Any] = {}
    if values.right == RequestKind.rectification.value:
        details["changes"] = changes
    if values.right == RequestKind.objection.value:
        details["purposes"] = purposes
    body = {"kind": values.right, "subject": subject, "language": language, "details": details}
    return Checked(body, errors)


# Where the request schema reports a problem (its ``loc``) and the form field it belongs to.
SCHEMA_FIELDS: dict[tuple[str, ...], str] = {
    ("subject", "email"): "email",
    ("subject", "name"): "name",
    ("subject", "phone"): "phone",
    ("subject", "national_id"): "national_id",
}


def schema_field(loc: Sequence[str | int]) -> str:
    """The form field a schema error belongs to (the right, when it names none we show)."""
    return SCHEMA_FIELDS.get(tuple(str(part) for part in loc[:2]), "right")
