"""Secrets stay out of error messages, and local state under var/ is the service user's alone."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from app.db.engine import Database
from app.domain.letters import Letter
from app.services import sweeps
from app.settings import Settings
from tests.test_smoke_serve import free_port

RECOGNISABLE = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    "given",
    [
        {"signing_key": RECOGNISABLE},
        {"data_key": RECOGNISABLE},
        {"data_key": RECOGNISABLE, "audit_key": RECOGNISABLE + "x"},
    ],
)
def test_production_errors_name_settings_never_values(given, tmp_path):
    with pytest.raises(ValidationError) as caught:
        Settings(env="production", var_dir=tmp_path, _env_file=None, **given)  # type: ignore[call-arg]
    message = str(caught.value)
    assert RECOGNISABLE[:8] not in message
    assert "INNSYN_STAFF_ISSUER" in message
    assert "or an OIDC issuer" not in message  # the old advice: the signing key is not used there
    if "audit_key" not in given:
        assert "INNSYN_AUDIT_KEY" in message


def test_production_starts_with_its_keys(tmp_path):
    settings = Settings(
        env="production",
        var_dir=tmp_path / "var",
        data_key=RECOGNISABLE,  # type: ignore[arg-type]
        audit_key=RECOGNISABLE,  # type: ignore[arg-type]
        staff_issuer="https://idp.example",
        _env_file=None,  # type: ignore[call-arg]
    )
    assert settings.signing_key is None
    assert not (tmp_path / "var").exists()  # nothing generated in production


def test_development_keys_are_private_files(tmp_path):
    settings = Settings(env="development", var_dir=tmp_path / "var", _env_file=None)  # type: ignore[call-arg]
    assert settings.audit_key is not None
    assert mode(tmp_path / "var") == 0o700
    assert mode(tmp_path / "var" / "dev-secrets.json") == 0o600
    again = Settings(env="development", var_dir=tmp_path / "var", _env_file=None)  # type: ignore[call-arg]
    assert again.audit_key == settings.audit_key  # kept, so the CLI and the server agree


async def test_sqlite_database_and_its_wal_are_private(tmp_path):
    path = tmp_path / "var" / "innsyn.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            await conn.exec_driver_sql("INSERT INTO t VALUES (1)")
        async with db.engine.connect() as conn:
            await conn.exec_driver_sql("SELECT * FROM t")
            files = [p for p in path.parent.iterdir() if p.name.startswith("innsyn.db")]
            assert {p.name for p in files} >= {"innsyn.db", "innsyn.db-wal", "innsyn.db-shm"}
            assert {p.name: mode(p) for p in files} == {p.name: 0o600 for p in files}
    finally:
        await db.dispose()


async def test_an_existing_world_readable_database_is_tightened(tmp_path):
    path = tmp_path / "old.db"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)
    db = Database(f"sqlite+aiosqlite:///{path}")
    await db.dispose()
    assert mode(path) == 0o600


async def test_outbox_letters_are_private_and_purged_with_collected_data(runtime, clock):
    letter = Letter(subject="Code", body="Your confirmation code is 123456.")
    await runtime.mailer.send("ola@example.no", letter)
    [old] = list(runtime.settings.outbox_dir.glob("*.eml"))
    assert mode(old) == 0o600
    assert mode(runtime.settings.outbox_dir) == 0o700
    long_ago = clock.now() - timedelta(days=runtime.settings.purge_after_days + 1)
    os.utime(old, (long_ago.timestamp(), long_ago.timestamp()))
    await runtime.mailer.send("ola@example.no", letter)
    await sweeps.purge_collected(runtime)
    left = list(runtime.settings.outbox_dir.glob("*.eml"))
    assert old not in left
    assert len(left) == 1  # a fresh letter stays until its time comes


def _serve(tmp_path: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INNSYN_")}
    env |= {"INNSYN_VAR_DIR": str(tmp_path / "var"), "INNSYN_RUN_WORKERS": "false"}
    env |= {"INNSYN_RUN_SCHEDULER": "false", **extra_env}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(free_port()), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
    )


def test_serving_development_keys_on_the_network_is_refused(tmp_path):
    done = _serve(tmp_path, "--host", "0.0.0.0")
    assert done.returncode == 2
    assert "--allow-dev-keys-on-network" in done.stderr
    assert "INNSYN_ALLOW_DEV_KEYS_ON_NETWORK" in done.stderr


def test_the_network_check_allows_loopback_production_and_the_flag(tmp_path):
    from app.exposure import ExposedDevelopmentKeys, check_listen_address

    dev = Settings(env="development", var_dir=tmp_path / "var", _env_file=None)  # type: ignore[call-arg]
    for host in ("127.0.0.1", "localhost", "::1"):
        check_listen_address(dev, host)
    check_listen_address(dev, "0.0.0.0", allow=True)
    for host in ("0.0.0.0", "::", "192.168.1.10", "innsyn.example"):
        with pytest.raises(ExposedDevelopmentKeys):
            check_listen_address(dev, host)
    prod = Settings(
        env="production",
        data_key=RECOGNISABLE,  # type: ignore[arg-type]
        audit_key=RECOGNISABLE,  # type: ignore[arg-type]
        staff_issuer="https://idp.example",
        _env_file=None,  # type: ignore[call-arg]
    )
    check_listen_address(prod, "0.0.0.0")
