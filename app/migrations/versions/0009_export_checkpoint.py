"""export_job checkpoint: a taken-over ``$export`` goes on after its last completed file

Revision ID: 0009
Revises: 0008

An exporter that took over a job whose exporter died started it again from its first
Patient. Each completed NDJSON file is now recorded while the job runs, in the same
transaction as the checkpoint: ``output`` lists the completed files, ``checkpoint_after``
is the id of the last Patient in the last of them (the next attempt reads the Patients
after it, in id order), and ``checkpoint_attempt`` the attempt that completed it, so that
only starts without progress count against the attempt limit (app.services.bulk_export).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("export_job", sa.Column("checkpoint_after", sa.String(length=64),
                                          nullable=True))
    op.add_column("export_job", sa.Column("checkpoint_attempt", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("export_job") as batch_op:
        batch_op.drop_column("checkpoint_attempt")
        batch_op.drop_column("checkpoint_after")
