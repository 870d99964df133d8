"""patients, history, search indexes and audit resources

Revision ID: 0001
Revises: 
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('patient',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_updated', sa.DateTime(), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('protected', sa.Boolean(), nullable=False),
    sa.Column('gender', sa.String(length=16), nullable=True),
    sa.Column('birth_lo', sa.Date(), nullable=True),
    sa.Column('birth_hi', sa.Date(), nullable=True),
    sa.Column('sort_family', sa.String(length=200), nullable=True),
    sa.Column('sort_given', sa.String(length=200), nullable=True),
    sa.Column('resource', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.create_index('ix_patient_birth_lo', ['birth_lo'], unique=False)
        batch_op.create_index('ix_patient_last_updated', ['last_updated'], unique=False)
        batch_op.create_index('ix_patient_sort_family', ['sort_family'], unique=False)

    op.create_table('patient_history',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('last_updated', sa.DateTime(), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('deleted', sa.Boolean(), nullable=False),
    sa.Column('protected', sa.Boolean(), nullable=False),
    sa.Column('resource', sa.LargeBinary(), nullable=True),
    sa.PrimaryKeyConstraint('id', 'version_id')
    )
    with op.batch_alter_table('patient_history', schema=None) as batch_op:
        batch_op.create_index('ix_patient_history_last_updated', ['last_updated'], unique=False)

    op.create_table('patient_identifier',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('patient_id', sa.String(length=64), nullable=False),
    sa.Column('system', sa.String(length=255), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('patient_identifier', schema=None) as batch_op:
        batch_op.create_index('ix_patient_identifier_patient', ['patient_id'], unique=False)
        batch_op.create_index('ix_patient_identifier_value', ['value'], unique=False)
        batch_op.create_index('uq_patient_identifier_active', ['system', 'value'], unique=True, sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))

    op.create_table('patient_link',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('patient_id', sa.String(length=64), nullable=False),
    sa.Column('target_id', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('patient_link', schema=None) as batch_op:
        batch_op.create_index('ix_patient_link_patient', ['patient_id'], unique=False)
        batch_op.create_index('ix_patient_link_target', ['target_id'], unique=False)

    op.create_table('patient_string',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('patient_id', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=32), nullable=False),
    sa.Column('folded', sa.String(length=255), nullable=False),
    sa.Column('exact', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('patient_string', schema=None) as batch_op:
        batch_op.create_index('ix_patient_string_param_folded', ['param', 'folded'], unique=False, postgresql_ops={'folded': 'text_pattern_ops'})
        batch_op.create_index('ix_patient_string_patient', ['patient_id'], unique=False)

    op.create_table('patient_token',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('patient_id', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=32), nullable=False),
    sa.Column('system', sa.String(length=255), nullable=False),
    sa.Column('code', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patient.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('patient_token', schema=None) as batch_op:
        batch_op.create_index('ix_patient_token_param_code', ['param', 'code'], unique=False)
        batch_op.create_index('ix_patient_token_patient', ['patient_id'], unique=False)

    op.create_table('audit_resource',
    sa.Column('resource_type', sa.String(length=40), nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('recorded', sa.DateTime(), nullable=False),
    sa.Column('resource', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('resource_type', 'id')
    )
    op.create_index('ix_audit_resource_recorded', 'audit_resource', ['resource_type', 'recorded'], unique=False)
    op.create_table('audit_resource_index',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('resource_type', sa.String(length=40), nullable=False),
    sa.Column('resource_id', sa.String(length=64), nullable=False),
    sa.Column('param', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_audit_resource_index_lookup', 'audit_resource_index', ['resource_type', 'param', 'value'], unique=False)


def downgrade() -> None:
    op.drop_table('audit_resource_index')
    op.drop_table('audit_resource')
    with op.batch_alter_table('patient_token', schema=None) as batch_op:
        batch_op.drop_index('ix_patient_token_patient')
        batch_op.drop_index('ix_patient_token_param_code')

    op.drop_table('patient_token')
    with op.batch_alter_table('patient_string', schema=None) as batch_op:
        batch_op.drop_index('ix_patient_string_patient')
        batch_op.drop_index('ix_patient_string_param_folded', postgresql_ops={'folded': 'text_pattern_ops'})

    op.drop_table('patient_string')
    with op.batch_alter_table('patient_link', schema=None) as batch_op:
        batch_op.drop_index('ix_patient_link_target')
        batch_op.drop_index('ix_patient_link_patient')

    op.drop_table('patient_link')
    with op.batch_alter_table('patient_identifier', schema=None) as batch_op:
        batch_op.drop_index('uq_patient_identifier_active', sqlite_where=sa.text('active'), postgresql_where=sa.text('active'))
        batch_op.drop_index('ix_patient_identifier_value')
        batch_op.drop_index('ix_patient_identifier_patient')

    op.drop_table('patient_identifier')
    with op.batch_alter_table('patient_history', schema=None) as batch_op:
        batch_op.drop_index('ix_patient_history_last_updated')

    op.drop_table('patient_history')
    with op.batch_alter_table('patient', schema=None) as batch_op:
        batch_op.drop_index('ix_patient_sort_family')
        batch_op.drop_index('ix_patient_last_updated')
        batch_op.drop_index('ix_patient_birth_lo')

    op.drop_table('patient')
