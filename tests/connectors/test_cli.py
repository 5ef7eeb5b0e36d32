"""``innsyn connectors list|check`` as a real process, configured through the environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from innsyn_peers.elhub import ElhubPeer

from app.connectors.testing import closed_url, serve_app

TOKEN = "cli-t0ken-2f9a"
INNSYN = [sys.executable, "-c", "from app.cli import main; main()"]


@pytest.fixture(scope="module")
def elhub_url() -> Iterator[str]:
    with serve_app(ElhubPeer(token=TOKEN).app) as url:
        yield url


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("INNSYN_")}
    environ |= {"INNSYN_VAR_DIR": str(tmp_path / "var"), "INNSYN_ENV": "test", **env}
    return subprocess.run(
        [*INNSYN, "connectors", *args],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
        check=False,
    )


def configure(tmp_path: Path, url: str) -> str:
    path = tmp_path / "connectors.yaml"
    path.write_text(
        "connectors:\n"
        f"  - {{name: elhub, kind: registry, config: {{base_url: '{url}', token: '${{TOKEN}}'}}}}\n"
        f"  - {{name: down, kind: registry, config: {{base_url: '{closed_url()}', token: x}}}}\n"
    )
    return str(path)


def test_check_prints_health_as_json_and_fails_when_something_is_down(
    tmp_path: Path, elhub_url: str
) -> None:
    done = run(
        tmp_path,
        "check",
        "--json",
        INNSYN_CONNECTORS_FILE=configure(tmp_path, elhub_url),
        TOKEN=TOKEN,
    )

    assert done.returncode == 1, done.stderr
    view = json.loads(done.stdout)
    health = {c["name"]: c["health"] for c in view["connectors"]}
    assert health["elhub"] == {"ok": True, "detail": "Elhub API answers"}
    assert health["down"]["ok"] is False
    assert "could not be reached" in health["down"]["detail"]
    assert TOKEN not in done.stdout + done.stderr


def test_list_shows_a_missing_variable_by_name(tmp_path: Path, elhub_url: str) -> None:
    done = run(tmp_path, "list", INNSYN_CONNECTORS_FILE=configure(tmp_path, elhub_url))

    assert done.returncode == 1
    assert "elhub (instance, kind registry)" in done.stdout
    assert "environment variable TOKEN is not set" in done.stdout
    assert "installed kinds:" in done.stdout


def test_strict_mode_refuses_to_start(tmp_path: Path, elhub_url: str) -> None:
    done = run(
        tmp_path,
        "list",
        INNSYN_CONNECTORS_FILE=configure(tmp_path, elhub_url),
        INNSYN_CONNECTORS_STRICT="true",
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
