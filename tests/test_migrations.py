"""Migrations reach head on both databases and match the models exactly."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

import app.db.models  # noqa: F401 - registers the tables
from app.db.migrate import alembic_config


async def test_database_is_at_head(database, database_url):
    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()

    def current(conn):
        return MigrationContext.configure(conn).get_current_revision()

    async with database.engine.connect() as conn:
        assert await conn.run_sync(current) == head


async def test_autogenerate_finds_no_difference(database):
    def diff(conn):
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)

    async with database.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_downgrade_to_base_and_up_again(backend, tmp_path):
    if backend != "sqlite":
        return  # the shared PostgreSQL database is in use by other tests; SQLite is private
    from app.db.migrate import downgrade, upgrade

    url = f"sqlite+aiosqlite:///{tmp_path / 'cycle.db'}"
    await asyncio.to_thread(upgrade, url)
    await asyncio.to_thread(downgrade, url, "base")
    await asyncio.to_thread(upgrade, url)
