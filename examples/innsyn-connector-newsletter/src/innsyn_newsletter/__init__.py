"""An example Innsyn connector: a newsletter subscriber list kept in one JSON file.

The file holds ``{"subscribers": [...]}``; each subscriber has an ``id``, ``email``,
``name``, the ``lists`` they receive and a ``consent_log`` of when consent was given or
withdrawn. The connector finds people by e-mail, returns their subscription and consent
log, and erases them. It shows every part a connector needs: ``kind``, a pydantic
``config_model``, declared ``capabilities`` and ``categories``, ``check``, the capability
methods, and classified errors.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from app.connectors import (
    API_VERSION,
    Capability,
    CategoryErasure,
    CollectResult,
    ConnectorConfigError,
    DataCategory,
    ErasureOutcome,
    ErasureResult,
    Health,
    Record,
    SubjectRef,
)

__all__ = ["NewsletterConfig", "NewsletterConnector"]


class NewsletterConfig(BaseModel):
    """One instance's settings, from the ``config`` block of the connectors file."""

    path: Path = Field(title="Subscriber file", description="The JSON file of the list.")
    list_title: str = Field(default="Newsletter", description="Shown to the person.")


SUBSCRIPTION = DataCategory(
    name="subscription",
    description="Your e-mail address, name and the newsletters you receive.",
    purpose="Sending you the newsletters you asked for.",
    legal_basis="GDPR 6(1)(a) consent",
    automated_decisions="none",
    transfers=[],
    recipients=["Our e-mail delivery provider (processor)"],
    retention="Until you unsubscribe or withdraw your consent.",
    source="You, when you signed up.",
    marketing=True,
    consent_based=True,
)
CONSENT_LOG = DataCategory(
    name="consent_log",
    description="When you gave or withdrew consent, and where.",
    purpose="Proving that you consented (GDPR 7(1)).",
    legal_basis="GDPR 6(1)(f) legitimate interest in documenting consent",
    automated_decisions="none",
    transfers=[],
    retention="As long as the subscription, plus 3 years (limitation).",
    source="Recorded by the sign-up form.",
)


class NewsletterConnector:
    """Collects and erases newsletter subscribers, matched by e-mail address."""

    kind: ClassVar[str] = "newsletter"
    api_version: ClassVar[int] = API_VERSION
    config_model: ClassVar[type[BaseModel]] = NewsletterConfig
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {Capability.collect, Capability.erase}
    )

    def __init__(self, name: str, config: NewsletterConfig) -> None:
        self.name = name
        self.config = config
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"NewsletterConnector(name={self.name!r})"

    def categories(self) -> Sequence[DataCategory]:
        return [SUBSCRIPTION, CONSENT_LOG]

    async def check(self) -> Health:
        await asyncio.to_thread(self._read)
        return Health(ok=True, detail=f"subscriber file readable ({self.config.list_title})")

    async def collect(self, subject: SubjectRef) -> CollectResult:
        rows = await asyncio.to_thread(self._read)
        records: list[Record] = []
        for row in _matching(rows, subject):
            if not row.get("unsubscribed"):
                keys = ("email", "name", "lists", "subscribed_at")
                fields = {k: row[k] for k in keys if k in row}
                records.append(Record(category="subscription", id=row["id"], data=fields))
            for n, event in enumerate(row.get("consent_log", [])):
                records.append(Record(category="consent_log", id=f"{row['id']}/{n}", data=event))
        return CollectResult(records=records)

    async def erase(self, subject: SubjectRef, categories: Sequence[str]) -> ErasureResult:
        async with self._lock:
            rows = await asyncio.to_thread(self._read)
            counts = dict.fromkeys(categories, 0)
            matches = {id(row) for row in _matching(rows, subject)}
            left = [_erase_row(r, categories, counts) if id(r) in matches else r for r in rows]
            await asyncio.to_thread(self._write, [r for r in left if r is not None])
        return ErasureResult(
            categories=[
                CategoryErasure(
                    category=c,
                    outcome=ErasureOutcome.erased if n else ErasureOutcome.not_found,
                    count=n,
                )
                for c, n in counts.items()
            ]
        )

    async def aclose(self) -> None:
        """Nothing to close: the file is opened per call."""

    def _read(self) -> list[dict[str, Any]]:
        path = self.config.path
        if not path.parent.is_dir():
            raise ConnectorConfigError(f"the folder of the subscriber file does not exist ({path})")
        if not path.exists():
            return []
        try:
            subscribers = json.loads(path.read_text(encoding="utf-8"))["subscribers"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ConnectorConfigError(
                "the subscriber file is not a newsletter list",
                internal_message=f"{path}: {type(exc).__name__}",
            ) from None
        if not isinstance(subscribers, list):
            raise ConnectorConfigError("the subscriber file is not a newsletter list")
        return subscribers

    def _write(self, rows: list[dict[str, Any]]) -> None:
        """Write atomically, so a crash never leaves half a file."""
        tmp = self.config.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"subscribers": rows}, indent=2), encoding="utf-8")
        os.replace(tmp, self.config.path)


def _matching(rows: list[dict[str, Any]], subject: SubjectRef) -> list[dict[str, Any]]:
    """Subscribers with a proven e-mail of the person; a claimed address finds nobody."""
    emails = {e.strip().lower() for e in subject.proven.emails}
    return [row for row in rows if str(row.get("email", "")).lower() in emails]


def _erase_row(
    row: dict[str, Any], categories: Sequence[str], counts: dict[str, int]
) -> dict[str, Any] | None:
    """Drop the asked-for parts of one subscriber; returns what is left, or None.

    When only the subscription goes, the e-mail stays as the key of the consent log.
    """
    if "consent_log" in categories and row.get("consent_log"):
        counts["consent_log"] += len(row["consent_log"])
        row = {**row, "consent_log": []}
    if "subscription" in categories:
        if not row.get("unsubscribed"):
            counts["subscription"] += 1
        if not row.get("consent_log"):
            return None
        return {k: row[k] for k in ("id", "email", "consent_log")} | {"unsubscribed": True}
    return row
