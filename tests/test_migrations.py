"""Migrations reach head on both databases and match the models exactly."""

from __future__ import annotations

import asyncio
from typing import Any

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


async def _private_database(backend: str, database_url: str, tmp_path: Any, name: str) -> str:
    """A database of the test's own, to migrate step by step."""
    from tests.conftest import _ensure_pg_database

    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / f'{name}.db'}"
    url = database_url + "_" + name
    await _ensure_pg_database(url)
    return url


async def test_existing_audit_events_are_rechained_under_the_key(backend, database_url, tmp_path):
    """Events written before 0003 come out keyed, in one global chain, with their heads."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from app.db.engine import Database
    from app.db.migrate import upgrade
    from app.domain.audit import AuditKey
    from app.services import audit, audit_trail
    from tests.conftest import AUDIT_KEY

    url = await _private_database(backend, database_url, tmp_path, "rechain")
    before = ScriptDirectory.from_config(alembic_config(url)).get_revision("0003").down_revision
    await asyncio.to_thread(upgrade, url, str(before))
    old = Database(url)
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).replace(tzinfo=None)
    async with old.engine.begin() as conn:
        for n, (stream, seq) in enumerate([("req_a", 1), ("system", 1), ("req_a", 2)]):
            await conn.execute(
                text(
                    "INSERT INTO audit_events (stream, seq, request_id, at, actor, action, "
                    "detail, prev_hash, hash) VALUES (:s, :q, :r, :at, 'system:innsyn', :a, "
                    "'{}', 'x', 'y')"
                ),
                {
                    "s": stream,
                    "q": seq,
                    "r": None if stream == "system" else stream,
                    "at": at,
                    "a": f"old.{n}",
                },
            )
    await old.dispose()
    await asyncio.to_thread(lambda: upgrade(url, audit_key=AUDIT_KEY))
    db = Database(url, audit_key=AuditKey(AUDIT_KEY))
    try:
        async with db.session() as session:
            trail = await audit_trail.check_trail(session, None, from_genesis=True)
            assert trail.check.findings == [] and trail.head_global_seq == 3
            for stream in ("req_a", "system"):
                events = await audit.events_for(session, stream=stream)
                assert (await audit.check_stream_of(session, stream, events)).findings == []
            await audit.append(session, at=datetime.now(UTC), actor="system", action="new")
        async with db.session() as session:
            trail = await audit_trail.check_trail(session, None, from_genesis=True)
            assert trail.check.findings == [] and trail.head_global_seq == 4
    finally:
        await db.dispose()


async def test_objection_decisions_move_out_of_the_sealed_notes(backend, database_url, tmp_path):
    """0012: a decision kept in the notes becomes a column; the grounds stay sealed."""
    from datetime import UTC, date, datetime

    from sqlalchemy import text

    from app.db.engine import Database
    from app.db.migrate import upgrade
    from app.infra.crypto import DataCipher
    from tests.conftest import AUDIT_KEY, DATA_KEY

    url = await _private_database(backend, database_url, tmp_path, "objection")
    await asyncio.to_thread(lambda: upgrade(url, "0011", audit_key=AUDIT_KEY))
    cipher = DataCipher(DATA_KEY)
    notes = {
        "objection_decision": "upheld",
        "objection_follow_up": "req_b",
        "objection_grounds": "G",
    }
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC).replace(tzinfo=None)
    old = Database(url)
    async with old.engine.begin() as conn:
        for request_id, sealed in (
            ("req_a", cipher.seal(notes, purpose="notes:req_a")),
            ("req_c", None),
        ):
            await conn.execute(
                text(
                    "INSERT INTO requests (id, kind, status, channel, language, received_at, "
                    "created_at, updated_at, target_due_date, legal_due_date, extension_months, "
                    "effective_due_at, subject_ciphertext, verification_method, "
                    "verification_state, status_token_hash, created_by, notes_ciphertext) VALUES "
                    "(:id, 'objection', 'in_progress', 'api', 'en', :at, :at, :at, :d, :d, 0, :at, "
                    "'x', 'email', 'verified', 'h', 'staff', :notes)"
                ),
                {"id": request_id, "at": at, "d": date(2026, 4, 2), "notes": sealed},
            )
    await old.dispose()
    await asyncio.to_thread(lambda: upgrade(url, audit_key=AUDIT_KEY, data_key=DATA_KEY))
    db = Database(url)
    try:
        async with db.engine.connect() as conn:
            rows = {
                r.id: r
                for r in await conn.execute(
                    text(
                        "SELECT id, objection_decision, objection_follow_up_id, notes_ciphertext "
                        "FROM requests ORDER BY id"
                    )
                )
            }
        moved = rows["req_a"]
        assert (moved.objection_decision, moved.objection_follow_up_id) == ("upheld", "req_b")
        assert cipher.open(moved.notes_ciphertext, purpose="notes:req_a") == {
            "objection_grounds": "G"
        }
        assert rows["req_c"].objection_decision is None and rows["req_c"].notes_ciphertext is None
    finally:
        await db.dispose()
