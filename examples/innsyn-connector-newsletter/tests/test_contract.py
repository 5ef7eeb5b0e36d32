"""The newsletter connector passes Innsyn's connector contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from innsyn_newsletter import NewsletterConfig, NewsletterConnector

from app.connectors import SubjectRef
from app.connectors.testing import ConnectorContract


def _subscriber(id_: str, email: str, name: str) -> dict[str, Any]:
    return {
        "id": id_,
        "email": email,
        "name": name,
        "lists": ["monthly"],
        "subscribed_at": "2025-05-01T10:00:00Z",
        "consent_log": [{"event": "given", "at": "2025-05-01T10:00:00Z", "source": "web form"}],
    }


class TestNewsletterContract(ConnectorContract):
    kind = "newsletter"

    @pytest.fixture
    def list_file(self, tmp_path: Path) -> Path:
        path = tmp_path / "subscribers.json"
        rows = [
            _subscriber("s-1", "kari.nordmann@example.no", "Kari Nordmann"),
            _subscriber("s-2", "per.hansen@example.no", "Per Hansen"),
        ]
        path.write_text(json.dumps({"subscribers": rows}))
        return path

    @pytest.fixture
    def connector(self, list_file: Path) -> NewsletterConnector:
        return NewsletterConnector("newsletter", NewsletterConfig(path=list_file))

    @pytest.fixture
    def seed_subject(self) -> SubjectRef:
        return SubjectRef(request_id="r-1", emails=["Kari.Nordmann@example.no"])

    @pytest.fixture
    def other_subject(self) -> SubjectRef:
        return SubjectRef(request_id="r-2", emails=["per.hansen@example.no"], name="Per Hansen")

    @pytest.fixture
    def broken_connector(self, tmp_path: Path) -> NewsletterConnector:
        missing = tmp_path / "no-such-folder" / "subscribers.json"
        return NewsletterConnector("newsletter", NewsletterConfig(path=missing))


async def test_unsubscribed_person_keeps_only_the_consent_log(tmp_path: Path) -> None:
    path = tmp_path / "list.json"
    path.write_text(json.dumps({"subscribers": [_subscriber("s-1", "a@example.no", "A")]}))
    connector = NewsletterConnector("newsletter", NewsletterConfig(path=path))
    subject = SubjectRef(request_id="r", emails=["a@example.no"])

    await connector.erase(subject, ["subscription"])

    stored = json.loads(path.read_text())["subscribers"]
    assert stored == [
        {"id": "s-1", "email": "a@example.no", "consent_log": stored[0]["consent_log"]}
        | {"unsubscribed": True}
    ]
