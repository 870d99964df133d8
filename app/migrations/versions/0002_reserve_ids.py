"""reserve id counters, log and idempotency keys ($generate-reserve-id)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reserve_counter",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("series", sa.Integer(), nullable=False),
        sa.Column("next_value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "key"),
    )
    op.create_table(
        "reserve_id",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("system", sa.String(length=255), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("generated_at", sa.DateTime(), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("patient_id", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("uq_reserve_id_system_value", "reserve_id", ["system", "value"],
                    unique=True)
    op.create_index("ix_reserve_id_request", "reserve_id", ["request_id"])
    op.create_index("ix_reserve_id_patient", "reserve_id", ["patient_id"])
    op.create_table(
        "reserve_request",
        sa.Column("request_id", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("request_id"),
    )


def downgrade() -> None:
    op.drop_table("reserve_request")
    op.drop_index("ix_reserve_id_patient", table_name="reserve_id")
    op.drop_index("ix_reserve_id_request", table_name="reserve_id")
    op.drop_index("uq_reserve_id_system_value", table_name="reserve_id")
    op.drop_table("reserve_id")
    op.drop_table("reserve_counter")
