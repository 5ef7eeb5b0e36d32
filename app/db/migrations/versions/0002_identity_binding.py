"""identity binding: what verification proved, used ID tokens, a longer task status

Revision ID: 0002
Revises: 0001
Create Date: (generated)
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import app.db.types

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("identity", sa.JSON(), nullable=True))
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=16),
            type_=sqlmodel.sql.sqltypes.AutoString(length=32),
            existing_nullable=False,
        )
    op.create_table(
        "used_id_tokens",
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("expires_at", app.db.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    with op.batch_alter_table("used_id_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_used_id_tokens_expires_at"), ["expires_at"], unique=False
        )
    _record_earlier_proofs()


_EARLIER = {
    # An e-mail code proved the address; an ID token its national id; anything else was a
    # staff attestation, which vouched for every identifier filed (a blanket proof).
    "email": ("email_code", ["email"], False),
    "oidc": ("oidc", ["national_id"], False),
}
_EVERY_KIND = ["customer_ids", "email", "national_id", "phone"]


def _record_earlier_proofs() -> None:
    """Requests verified before proofs were recorded get the proof their method gave."""
    bind = op.get_bind()
    requests = sa.table(
        "requests",
        sa.column("id", sa.String),
        sa.column("verification_method", sa.String),
        sa.column("verification_state", sa.String),
        sa.column("verified_at", app.db.types.UTCDateTime()),
        sa.column("identity", sa.JSON),
    )
    rows = bind.execute(
        sa.select(requests.c.id, requests.c.verification_method, requests.c.verified_at).where(
            requests.c.verification_state == "verified"
        )
    ).all()
    for request_id, method, verified_at in rows:
        proof_method, kinds, blanket = _EARLIER.get(method, ("staff", _EVERY_KIND, True))
        proof = {"method": proof_method, "kinds": kinds, "at": verified_at.isoformat()}
        if blanket:
            proof["blanket"] = True
        bind.execute(
            requests.update()
            .where(requests.c.id == request_id)
            .values(identity={"proofs": [proof]})
        )


def downgrade() -> None:
    with op.batch_alter_table("used_id_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_used_id_tokens_expires_at"))
    op.drop_table("used_id_tokens")
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=32),
            type_=sqlmodel.sql.sqltypes.AutoString(length=16),
            existing_nullable=False,
        )
    with op.batch_alter_table("requests", schema=None) as batch_op:
        batch_op.drop_column("identity")
