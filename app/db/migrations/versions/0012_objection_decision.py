"""objection decision: an approver's Art. 21(1) decision and the erasure it filed are columns
of the request, no longer keys inside its sealed notes (the grounds stay sealed)

Existing decisions are moved out of the notes: each objection's notes are opened with the
data key (``innsyn migrate`` passes it; else ``INNSYN_DATA_KEY``), the two keys taken out,
and the notes sealed again. Nothing needs the key when no objection has notes.

Revision ID: 0012
Revises: 0011
Create Date: (generated)
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import context, op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MOVED = {
    "objection_decision": "objection_decision",
    "objection_follow_up": "objection_follow_up_id",
}

requests = sa.table(
    "requests",
    sa.column("id", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("notes_ciphertext", sa.String()),
    sa.column("objection_decision", sa.String()),
    sa.column("objection_follow_up_id", sa.String()),
)


def _cipher() -> Any:
    from app.infra.crypto import DataCipher

    given = context.config.attributes.get("data_key")
    if given is None:
        from app.settings import get_settings

        secret = get_settings().data_key
        if secret is None:
            raise RuntimeError("moving objection decisions out of the notes needs INNSYN_DATA_KEY")
        given = secret.get_secret_value()
    return DataCipher(str(given))


def _objections_with_notes(bind: sa.engine.Connection) -> list[Any]:
    query = sa.select(requests).where(
        requests.c.kind == "objection", requests.c.notes_ciphertext.is_not(None)
    )
    return list(bind.execute(query))


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "objection_decision", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "objection_follow_up_id",
                sqlmodel.sql.sqltypes.AutoString(length=40),
                nullable=True,
            )
        )
    bind = op.get_bind()
    rows = _objections_with_notes(bind)
    if not rows:
        return
    cipher = _cipher()
    for row in rows:
        purpose = f"notes:{row.id}"
        notes = dict(cipher.open(row.notes_ciphertext, purpose=purpose))
        if "objection_decision" not in notes:
            continue
        values = {column: notes.pop(key, None) for key, column in _MOVED.items()}
        values["notes_ciphertext"] = cipher.seal(notes, purpose=purpose) if notes else None
        bind.execute(requests.update().where(requests.c.id == row.id).values(**values))


def downgrade() -> None:
    bind = op.get_bind()
    decided = list(
        bind.execute(sa.select(requests).where(requests.c.objection_decision.is_not(None)))
    )
    if decided:
        cipher = _cipher()
        for row in decided:
            purpose = f"notes:{row.id}"
            notes = (
                dict(cipher.open(row.notes_ciphertext, purpose=purpose))
                if row.notes_ciphertext
                else {}
            )
            for key, column in _MOVED.items():
                if getattr(row, column) is not None:
                    notes[key] = getattr(row, column)
            bind.execute(
                requests.update()
                .where(requests.c.id == row.id)
                .values(notes_ciphertext=cipher.seal(notes, purpose=purpose))
            )
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("objection_follow_up_id")
        batch_op.drop_column("objection_decision")
