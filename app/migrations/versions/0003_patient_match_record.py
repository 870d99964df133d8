"""patient.match_record: the normalised fields $match scores, stored beside the resource

Revision ID: 0003
Revises: 0002

Rows written before this revision keep NULL: $match rebuilds their record from the
resource (app.services.matching), and the next write of the Patient stores it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("patient", sa.Column("match_record", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("patient", "match_record")
