"""anchored audit trail: keyed chains, a global chain, heads, checkpoints; api key last use

Existing events are re-chained under the audit key (HMAC-SHA-256), in the order they were
written (``id``), into their streams and one global chain. The key comes from ``innsyn
migrate`` (INNSYN_AUDIT_KEY; generated under var/ in development); it is never stored.

Revision ID: 0003
Revises: 0005
Create Date: (written by hand)
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import context, op

import app.db.types

revision: str = "0003"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64


def _audit_key() -> Any:
    from app.domain.audit import AuditKey

    given = context.config.attributes.get("audit_key")
    if given is None:
        from app.settings import get_settings

        secret = get_settings().audit_key
        if secret is None:
            raise RuntimeError("re-chaining the audit trail needs INNSYN_AUDIT_KEY")
        given = secret.get_secret_value()
    return AuditKey(str(given))


def _events(bind: sa.engine.Connection) -> list[Any]:
    events = sa.table(
        "audit_events",
        sa.column("id", sa.Integer()),
        sa.column("stream", sa.String()),
        sa.column("seq", sa.Integer()),
        sa.column("request_id", sa.String()),
        sa.column("at", app.db.types.UTCDateTime()),
        sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("from_status", sa.String()),
        sa.column("to_status", sa.String()),
        sa.column("detail", sa.JSON()),
    )
    return list(bind.execute(sa.select(events).order_by(events.c.id)))


def _rechain(bind: sa.engine.Connection) -> None:
    rows = _events(bind)
    if not rows:
        return
    key = _audit_key()
    stream_heads: dict[str, tuple[int, str]] = {}
    global_prev = GENESIS
    for global_seq, row in enumerate(rows, start=1):
        _seq, prev = stream_heads.get(row.stream, (0, GENESIS))
        fields = {
            "stream": row.stream,
            "seq": row.seq,
            "global_seq": global_seq,
            "request_id": row.request_id,
            "at": row.at,
            "actor": row.actor,
            "action": row.action,
            "from_status": row.from_status,
            "to_status": row.to_status,
            "detail": row.detail,
        }
        digest = key.event_hash(prev, global_prev, fields)
        bind.execute(
            sa.text(
                "UPDATE audit_events SET global_seq = :g, prev_hash = :p, global_prev_hash = :gp,"
                " hash = :h WHERE id = :id"
            ),
            {"g": global_seq, "p": prev, "gp": global_prev, "h": digest, "id": row.id},
        )
        stream_heads[row.stream] = (row.seq, digest)
        global_prev = digest
    heads = [{"s": s, "q": q, "h": h} for s, (q, h) in stream_heads.items()]
    heads.append({"s": "*", "q": len(rows), "h": global_prev})
    bind.execute(sa.text("INSERT INTO audit_heads (stream, seq, hash) VALUES (:s, :q, :h)"), heads)


def upgrade() -> None:
    op.create_table(
        "audit_heads",
        sa.Column("stream", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("stream"),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("global_seq", sa.Integer(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", app.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("global_seq", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "global_prev_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True
            )
        )
    _rechain(op.get_bind())
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column("global_seq", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column(
            "global_prev_hash",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=64),
            nullable=False,
        )
        batch_op.create_unique_constraint(batch_op.f("uq_audit_events_global_seq"), ["global_seq"])
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_used_at", app.db.types.UTCDateTime(timezone=True), nullable=True)
        )


def _unchain(bind: sa.engine.Connection) -> None:
    """Back to the unkeyed per-stream SHA-256 chains revision 0001 verifies."""
    import hashlib
    import json
    from datetime import datetime

    def default(value: Any) -> str:
        if isinstance(value, datetime):
            return value.isoformat()
        raise TypeError(type(value).__name__)

    heads: dict[str, str] = {}
    for row in _events(bind):
        prev = heads.get(row.stream, GENESIS)
        fields = {
            k: getattr(row, k)
            for k in ("stream", "seq", "request_id", "at", "actor", "action")
            + ("from_status", "to_status", "detail")
        }
        canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), default=default)
        digest = hashlib.sha256(f"{prev}|{canonical}".encode()).hexdigest()
        bind.execute(
            sa.text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE id = :id"),
            {"p": prev, "h": digest, "id": row.id},
        )
        heads[row.stream] = digest


def downgrade() -> None:
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_audit_events_global_seq"), type_="unique")
        batch_op.drop_column("global_prev_hash")
        batch_op.drop_column("global_seq")
    _unchain(op.get_bind())
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_heads")
