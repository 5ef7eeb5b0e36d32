"""view version: requests carry a version for ETags; the timeline skips reads by index

Revision ID: 0010
Revises: 0006
Create Date: (generated)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMELINE_ONLY = "action NOT LIKE 'read.%'"


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
    op.create_index(
        "ix_audit_events_timeline",
        "audit_events",
        ["stream", "seq"],
        unique=False,
        postgresql_where=sa.text(TIMELINE_ONLY),
        sqlite_where=sa.text(TIMELINE_ONLY),
    )


def downgrade() -> None:
    op.drop_index("ix_audit_events_timeline", table_name="audit_events")
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("version")
