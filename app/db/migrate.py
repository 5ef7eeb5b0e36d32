"""Alembic, driven from code so ``innsyn migrate`` works from an installed package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from app.files import private_sqlite

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    if database_url.startswith("sqlite") and "///" in database_url:
        path = database_url.split("///", 1)[1]
        if path and path != ":memory:":
            private_sqlite(Path(path))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(
    database_url: str,
    revision: str = "head",
    *,
    audit_key: str | None = None,
    data_key: str | None = None,
) -> None:
    """``audit_key`` re-chains existing audit events, ``data_key`` opens sealed columns, when
    a migration needs them (never stored); else the settings' keys are used."""
    config = alembic_config(database_url)
    if audit_key is not None:
        config.attributes["audit_key"] = audit_key
    if data_key is not None:
        config.attributes["data_key"] = data_key
    command.upgrade(config, revision)


def downgrade(database_url: str, revision: str) -> None:
    command.downgrade(alembic_config(database_url), revision)
