"""claim versions

A claim's content as corrected: one row per version, written from its first correction or
re-check on (version 1 is then the provider's file as read), with who, when, from what
source, the batch it went into, and the field paths that changed (never values).

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'claim_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('claim_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('content', sa.JSON(), nullable=False),
        sa.Column('source', sa.String(length=20), nullable=False),
        sa.Column('changed_by', sa.String(length=60), nullable=False),
        sa.Column('changed_at', sa.DateTime(), nullable=False),
        sa.Column('diff', sa.JSON(), nullable=False),
        sa.Column('batch_id', sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(['claim_id'], ['claims.id']),
        sa.ForeignKeyConstraint(['batch_id'], ['batches.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('claim_id', 'version', name=op.f('uq_claim_versions_claim_id')),
    )
    op.create_index('ix_claim_versions_claim_id', 'claim_versions', ['claim_id'])


def downgrade() -> None:
    op.drop_index('ix_claim_versions_claim_id', table_name='claim_versions')
    op.drop_table('claim_versions')
