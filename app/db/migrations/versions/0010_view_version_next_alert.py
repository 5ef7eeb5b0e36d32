"""view version and next alert: requests carry a version for ETags and the time the deadline
sweep looks at them next; the timeline skips reads by index

Revision ID: 0010
Revises: 0006
Create Date: (generated)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db.types

revision: str = "0010"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMELINE_ONLY = "action NOT LIKE 'read.%'"
TERMINAL = ("completed", "refused", "withdrawn", "closed_unverified")


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("next_alert_at", app.db.types.UTCDateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_requests_next_alert_at"), ["next_alert_at"], unique=False
        )
    # Every open request is looked at once by the next sweeps, which set the precise time.
    requests = sa.table(
        "requests",
        sa.column("status", sa.String),
        sa.column("updated_at", app.db.types.UTCDateTime()),
        sa.column("next_alert_at", app.db.types.UTCDateTime()),
    )
    op.execute(
        requests.update()
        .where(requests.c.status.not_in(TERMINAL))
        .values(next_alert_at=requests.c.updated_at)
    )
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
        batch_op.drop_index(batch_op.f("ix_requests_next_alert_at"))
        batch_op.drop_column("next_alert_at")
        batch_op.drop_column("version")
