"""export_job: FHIR Bulk Data ``$export`` jobs (issue 17)

Revision ID: 0007
Revises: 0006

One row per kick-off: the owner (token ``sub``), the request, its state and progress, and a
lease (``lease_owner``/``lease_until``) so that one exporter at a time runs a job and another
takes it over when the lease runs out (app.services.bulk_export).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "export_job",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=True),
        sa.Column("owner_sees_protected", sa.Boolean(), nullable=False),
        sa.Column("request", sa.String(length=4096), nullable=False),
        sa.Column("base_url", sa.String(length=2048), nullable=False),
        sa.Column("types", sa.String(length=255), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=True),
        sa.Column("transaction_time", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("total", sa.BigInteger(), nullable=True),
        sa.Column("exported", sa.BigInteger(), nullable=False),
        sa.Column("output", sa.LargeBinary(), nullable=True),
        sa.Column("error", sa.String(length=255), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_export_job_state", "export_job", ["state"])
    op.create_index("ix_export_job_owner", "export_job", ["owner", "state"])


def downgrade() -> None:
    op.drop_index("ix_export_job_owner", table_name="export_job")
    op.drop_index("ix_export_job_state", table_name="export_job")
    op.drop_table("export_job")
