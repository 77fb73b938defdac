"""write-offs

A denied balance (or a patient balance nobody will pay) leaves the books only when a biller
writes it off with a reason and says who approved it: one row per write-off, beside its
ledger entries (``WRITE_OFF`` debit, the receivable credited).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 03:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import revcycle.db.models

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'write_offs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('claim_id', sa.Integer(), nullable=False),
        sa.Column('account', sa.String(length=20), nullable=False),
        sa.Column('amount', revcycle.db.models.Money(precision=14, scale=2), nullable=False),
        sa.Column('reason', sa.String(length=30), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.Column('approved_by', sa.String(length=60), nullable=False),
        sa.Column('entry_date', sa.Date(), nullable=False),
        sa.Column('written_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.ForeignKeyConstraint(['claim_id'], ['claims.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_write_offs_claim_id', 'write_offs', ['claim_id'])
    op.create_index('ix_write_offs_tenant_reason', 'write_offs', ['tenant_id', 'reason'])


def downgrade() -> None:
    op.drop_index('ix_write_offs_tenant_reason', table_name='write_offs')
    op.drop_index('ix_write_offs_claim_id', table_name='write_offs')
    op.drop_table('write_offs')
