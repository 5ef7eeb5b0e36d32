"""collected files: attachments and scans stored in sealed chunks, written as they stream

Revision ID: 0011
Revises: 0010
Create Date: (generated)
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import app.db.types

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "collected_files",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("task_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("name_ciphertext", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("complete", sa.Boolean(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("crc32", sa.BigInteger(), nullable=False),
        sa.Column("created_at", app.db.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["requests.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("collected_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_collected_files_request_id"), ["request_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_collected_files_task_id"), ["task_id"], unique=False)
    op.create_table(
        "collected_file_chunks",
        sa.Column("file_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["collected_files.id"]),
        sa.PrimaryKeyConstraint("file_id", "seq"),
    )


def downgrade() -> None:
    op.drop_table("collected_file_chunks")
    with op.batch_alter_table("collected_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_collected_files_task_id"))
        batch_op.drop_index(batch_op.f("ix_collected_files_request_id"))
    op.drop_table("collected_files")
