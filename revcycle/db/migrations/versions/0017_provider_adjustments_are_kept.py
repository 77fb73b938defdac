"""provider-level adjustments are kept, and the ones posting cannot place are queued

Every PLB of a posted remittance gets a row saying where posting booked it (a claim for a
WO naming one, INTEREST_INCOME for L6, FORWARD_BALANCE for FB, else PROVIDER_ADJUSTMENT);
the last kind is ``queued`` for a biller until resolved (when, by whom, what was done).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import revcycle.db.models

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'provider_adjustments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=False),
        sa.Column('remittance_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('reason_code', sa.String(length=5), nullable=False),
        sa.Column('reference', sa.String(length=50), nullable=False),
        sa.Column('amount', revcycle.db.models.Money(precision=14, scale=2), nullable=False),
        sa.Column('account', sa.String(length=20), nullable=False),
        sa.Column('claim_id', sa.Integer(), nullable=True),
        sa.Column('queued', sa.Boolean(), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('resolved_by', sa.String(length=60), nullable=False),
        sa.Column('resolution', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['claim_id'], ['claims.id'],
                                name=op.f('fk_provider_adjustments_claim_id_claims')),
        sa.ForeignKeyConstraint(['remittance_id'], ['remittances.id'],
                                name=op.f('fk_provider_adjustments_remittance_id_remittances')),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                                name=op.f('fk_provider_adjustments_tenant_id_tenants')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_provider_adjustments')))
    with op.batch_alter_table('provider_adjustments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_provider_adjustments_remittance_id'),
                              ['remittance_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('provider_adjustments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_provider_adjustments_remittance_id'))
    op.drop_table('provider_adjustments')
