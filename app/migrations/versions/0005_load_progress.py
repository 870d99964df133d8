"""load_progress: a bulk load's progress, committed with each batch (issue 14)

Revision ID: 0005
Revises: 0004

``python -m app load`` wrote its position to a checkpoint file after each batch's commit; a
load ended between the two loaded that batch again when resumed (records without an id
twice, records with an identifier refused as taken). The position now lives here, advanced
in the batch's own transaction (app.services.bulk_load).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "load_progress",
        sa.Column("job", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=1000), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("job"),
    )


def downgrade() -> None:
    op.drop_table("load_progress")
