"""answer links: a download link for the answer, short-lived, revocable and counted

Revision ID: 0009
Revises: 0008
Create Date: (generated)
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import app.db.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "answer_links",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("token_ciphertext", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("expires_at", app.db.types.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", app.db.types.UTCDateTime(), nullable=True),
        sa.Column("revoked_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("downloads", sa.Integer(), nullable=False),
        sa.Column("last_download_at", app.db.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("answer_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_answer_links_request_id"), ["request_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("answer_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_answer_links_request_id"))
    op.drop_table("answer_links")
