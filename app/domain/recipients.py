"""Art. 19: who must hear of a rectification, erasure or restriction, and how (pure).

Connectors name the recipients of each data category (``DataCategory.recipients``, the names
an Art. 15 answer gives). The recipient directory says how each one is told: by e-mail, by a
signed webhook, by the connector's own call (the registry's rectification *is* the notice to
Elhub), or not at all because it would be impossible or disproportionate, with the reason
documented. A recipient a category names but the directory does not know is never skipped:
its notice waits for staff.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

NotifyBy = Literal["email", "webhook", "connector", "disproportionate"]
Shared = Literal["email", "phone", "name", "national_id", "customer_ids"]

# What a task result says per category, and the Art. 19 action it is.
CHANGE_OUTCOMES: dict[str, str] = {
    "erased": "erasure",
    "anonymised": "erasure",
    "rectified": "rectification",
    "restricted": "restriction",
    "lifted": "restriction_lifted",
}


class RecipientSpec(BaseModel):
    """One recipient (Art. 4(9): a processor, a partner, another controller) and its route."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=200, description="As categories name it")
    notify: NotifyBy
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    url: str | None = Field(default=None, max_length=2000)
    secret: SecretStr | None = Field(default=None, description="Standard Webhooks secret")
    connector: str | None = Field(default=None, description="notify: connector")
    reason: str | None = Field(default=None, max_length=2000, description="disproportionate")
    share: list[Shared] = Field(
        default_factory=lambda: list[Shared](["email"]),
        description="Identifiers the recipient needs to find the person",
    )
    language: Literal["nb", "en"] = "nb"

    @model_validator(mode="after")
    def _route_complete(self) -> RecipientSpec:
        needed = {
            "email": ("email", self.email),
            "webhook": ("url", self.url),
            "connector": ("connector", self.connector),
            "disproportionate": ("reason", self.reason),
        }[self.notify]
        if not needed[1]:
            raise ValueError(f"recipient {self.name!r}: notify {self.notify} needs `{needed[0]}`")
        if self.notify == "webhook" and self.secret is None:
            raise ValueError(f"recipient {self.name!r}: a webhook needs a signing `secret`")
        return self


@dataclass(frozen=True)
class Change:
    """One category one system changed for the request."""

    connector: str
    category: str
    action: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlannedNotice:
    recipient: str
    notify: str  # a NotifyBy, or "unconfigured"
    action: str
    changes: tuple[Change, ...]
    status: str  # pending | sent | failed | disproportionate | needs_staff
    reason: str | None = None


@dataclass(frozen=True)
class Directory:
    """The configured recipients by name."""

    specs: Mapping[str, RecipientSpec] = field(default_factory=dict)

    @classmethod
    def of(cls, specs: Iterable[RecipientSpec]) -> Directory:
        by_name: dict[str, RecipientSpec] = {}
        for spec in specs:
            if spec.name in by_name:
                raise ValueError(f"recipient {spec.name!r} is listed twice")
            by_name[spec.name] = spec
        return cls(by_name)


def changes_in(connector: str, result: Mapping[str, object] | None) -> list[Change]:
    """The categories a task actually changed (a count of zero changed nothing)."""
    changes = []
    items = (result or {}).get("categories")
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        action = CHANGE_OUTCOMES.get(str(item.get("outcome")))
        count = item.get("count")
        counted = isinstance(count, int) and count > 0
        # Done by an interrupted attempt (app.domain.attempts): changed, count unknown.
        if action is None or not (counted or item.get("by_interrupted_attempt") is True):
            continue
        fields = item.get("fields")
        names = tuple(f for f in fields if isinstance(f, str)) if isinstance(fields, list) else ()
        changes.append(Change(connector, str(item.get("category")), action, names))
    return changes


def plan(
    changes: Sequence[Change],
    recipients_of: Mapping[tuple[str, str], Sequence[str]],
    directory: Directory,
    succeeded: Iterable[str] = (),
) -> list[PlannedNotice]:
    """One notice per recipient and action, listing every change it must hear of.

    ``recipients_of`` maps (connector, category) to the recipient names declared;
    ``succeeded`` are the connectors whose own call succeeded (their call is the notice for
    recipients with ``notify: connector``).
    """
    grouped: dict[tuple[str, str], list[Change]] = {}
    for change in changes:
        for name in recipients_of.get((change.connector, change.category), ()):
            grouped.setdefault((name, change.action), []).append(change)
    done = set(succeeded)
    notices = []
    for (name, action), items in sorted(grouped.items()):
        spec = directory.specs.get(name)
        notices.append(_notice(name, action, tuple(items), spec, done))
    return notices


PUBLISHED_ERASURE = "erasure_published"  # Art. 17(2): data made public was erased


def plan_published(
    changes: Sequence[Change],
    published_to: Mapping[tuple[str, str], Sequence[str]],
    directory: Directory,
    succeeded: Iterable[str] = (),
) -> list[PlannedNotice]:
    """Art. 17(2): the controllers that process what an erased category made public are
    told to erase links to it and copies of it, by the same routes as Art. 19 notices."""
    erased = [c for c in changes if c.action == "erasure"]
    grouped: dict[str, list[Change]] = {}
    for change in erased:
        for name in published_to.get((change.connector, change.category), ()):
            grouped.setdefault(name, []).append(change)
    done = set(succeeded)
    return [
        _notice(name, PUBLISHED_ERASURE, tuple(items), directory.specs.get(name), done)
        for name, items in sorted(grouped.items())
    ]


def _notice(
    name: str, action: str, items: tuple[Change, ...], spec: RecipientSpec | None, done: set[str]
) -> PlannedNotice:
    if spec is None:
        reason = "no route to this recipient is configured: tell them and record it"
        return PlannedNotice(name, "unconfigured", action, items, "needs_staff", reason)
    if spec.notify == "disproportionate":
        return PlannedNotice(name, spec.notify, action, items, "disproportionate", spec.reason)
    if spec.notify == "connector":
        if spec.connector in done:
            passed = f"passed on by the {spec.connector} connector's own call"
            return PlannedNotice(name, spec.notify, action, items, "sent", passed)
        reason = f"the {spec.connector} connector did not complete the change"
        return PlannedNotice(name, spec.notify, action, items, "needs_staff", reason)
    return PlannedNotice(name, spec.notify, action, items, "pending")
