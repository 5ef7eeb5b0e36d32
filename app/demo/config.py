"""The demo's connectors file: all six built-in kinds, wired to the demo's systems.

It is an ordinary connectors file (``INNSYN_CONNECTORS_FILE``) made from
``connectors.template.yaml``, written on every start because the loopback services get new
ports. It shows the pattern for credentials: the file names environment variables
(``${DEMO_INTERCOM_TOKEN}``) and the process that runs Innsyn sets them; the secrets
themselves are never written to disk.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from app.demo.data import DemoPaths
from app.demo.peers import MAILBOX, DemoPeers, DemoSecrets

TEMPLATE = Path(__file__).with_name("connectors.template.yaml")
_PLACE = re.compile(r"@([a-z_]+)@")
ENV_INTERCOM_TOKEN = "DEMO_INTERCOM_TOKEN"
ENV_ELHUB_TOKEN = "DEMO_ELHUB_TOKEN"
ENV_IMAP_PASSWORD = "DEMO_IMAP_PASSWORD"


def secret_environment(secrets: DemoSecrets) -> dict[str, str]:
    """The environment variables the connectors file reads its credentials from."""
    return {
        ENV_INTERCOM_TOKEN: secrets.intercom_token,
        ENV_ELHUB_TOKEN: secrets.elhub_token,
        ENV_IMAP_PASSWORD: secrets.imap_password,
    }


def live_values(paths: DemoPaths, peers: DemoPeers) -> dict[str, str | int]:
    """What the template leaves open: where the databases are and the services listen."""
    return {
        "crm_url": DemoPaths.sqlite_url(paths.crm_db),
        "billing_url": DemoPaths.sqlite_url(paths.invoicing_db),
        "intercom_url": peers.intercom_url,
        "imap_host": peers.imap_host,
        "imap_port": peers.imap_port,
        "imap_user": MAILBOX,
        "elhub_url": peers.elhub_url,
    }


def render(values: dict[str, str | int], template: str | None = None) -> str:
    """The template with every ``@name@`` replaced by its value as a YAML scalar.

    Values are written as JSON scalars (a JSON string is a YAML double-quoted string), so a
    path with ``#`` or ``: `` in it stays one value.

    Raises:
        ValueError: a value has no place in the template, or a place no value.
    """
    text = TEMPLATE.read_text(encoding="utf-8") if template is None else template
    wanted = set(_PLACE.findall(text))
    if wanted != set(values):
        raise ValueError(f"template places {sorted(wanted)} but values {sorted(values)}")
    return _PLACE.sub(lambda match: json.dumps(values[match.group(1)]), text)


def write_connectors_file(paths: DemoPaths, peers: DemoPeers) -> Path:
    """Write ``<var_dir>/demo/connectors.yaml`` for the running services; returns its path."""
    text = render(live_values(paths, peers))
    target = paths.connectors_file
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".new")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)
    return target
