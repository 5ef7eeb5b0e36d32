"""The recipient directory is read from the connectors file's ``recipients:`` section."""

from __future__ import annotations

import pytest

from app.connectors.loader import ConnectorsFileError
from app.services.recipient_directory import load_directory

GOOD = """
connectors: []
recipients:
  - {name: Fraktkompaniet AS, notify: email, email: personvern@frakt.example}
  - {name: Hooked AS, notify: webhook, url: "https://hooks.example/in", secret: "${HOOK_SECRET}"}
  - {name: Elhub, notify: connector, connector: elhub}
  - {name: SSB, notify: disproportionate, reason: receives aggregates only}
"""


def test_every_route_is_read_with_secrets_from_the_environment(tmp_path):
    path = tmp_path / "connectors.yaml"
    path.write_text(GOOD)
    directory = load_directory(path, environ={"HOOK_SECRET": "whsec_c2VjcmV0c2VjcmV0c2VjcmV0"})
    assert sorted(directory.specs) == ["Elhub", "Fraktkompaniet AS", "Hooked AS", "SSB"]
    hooked = directory.specs["Hooked AS"]
    assert hooked.secret is not None
    assert hooked.secret.get_secret_value() == "whsec_c2VjcmV0c2VjcmV0c2VjcmV0"
    assert "c2VjcmV0" not in repr(hooked)
    assert load_directory(None).specs == {}


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("- {name: A, notify: email}", "needs `email`"),
        ("- {name: A, notify: webhook, url: 'https://x.example'}", "signing `secret`"),
        ("- {name: A, notify: disproportionate}", "needs `reason`"),
        ("- {name: A, notify: pigeon}", "notify"),
        (
            "- {name: A, notify: connector, connector: x}\n  - {name: A, notify: connector, "
            "connector: y}",
            "listed twice",
        ),
        ("- {name: A, notify: webhook, url: 'https://x.example', secret: '${NOPE}'}", "NOPE"),
    ],
)
def test_a_broken_recipient_is_an_error_that_names_it(tmp_path, section, message):
    path = tmp_path / "connectors.yaml"
    path.write_text(f"connectors: []\nrecipients:\n  {section}\n")
    with pytest.raises(ConnectorsFileError) as raised:
        load_directory(path, environ={})
    assert message in raised.value.message
