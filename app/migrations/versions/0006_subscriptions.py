"""subscription, subscription_event: topic-based Subscriptions and their outbox (issue 17)

Revision ID: 0006
Revises: 0005

Events are written in the transaction of the Patient change that caused them, numbered per
subscription; deliverers (app.services.delivery) send them in order and record how far they
got (``delivered_through``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subscription",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("resource", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.LargeBinary(), nullable=True),
        sa.Column("topic", sa.String(length=255), nullable=False),
        sa.Column("endpoint", sa.String(length=2048), nullable=False),
        sa.Column("base_url", sa.String(length=2048), nullable=False),
        sa.Column("content", sa.String(length=16), nullable=False),
        sa.Column("filter_system", sa.String(length=255), nullable=True),
        sa.Column("heartbeat_seconds", sa.Integer(), nullable=True),
        sa.Column("owner", sa.String(length=255), nullable=True),
        sa.Column("owner_sees_protected", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("event_count", sa.BigInteger(), nullable=False),
        sa.Column("delivered_through", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_due_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_subscription_topic", "subscription", ["topic", "status"])
    op.create_table(
        "subscription_event",
        sa.Column("subscription_id", sa.String(length=64), nullable=False),
        sa.Column("event_number", sa.BigInteger(), nullable=False),
        sa.Column("focus", sa.String(length=128), nullable=False),
        sa.Column("focus_version", sa.Integer(), nullable=True),
        sa.Column("context", sa.String(length=1000), nullable=True),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["subscription_id"], ["subscription.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("subscription_id", "event_number"),
    )


def downgrade() -> None:
    op.drop_table("subscription_event")
    op.drop_index("ix_subscription_topic", table_name="subscription")
    op.drop_table("subscription")
