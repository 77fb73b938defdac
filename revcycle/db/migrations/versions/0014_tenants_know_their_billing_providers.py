"""tenants know their billing providers

Each tenant's billing providers (NPI, tax id, name). An NPI is unique in the installation:
it belongs to one tenant, so an 835's payee NPI routes to one tenant, and scrub rejects a
claim whose billing NPI is not one of its tenant's (TENANT-01) once the tenant has any.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('billing_providers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('npi', sa.String(length=10), nullable=False),
    sa.Column('tin', sa.String(length=9), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'],
                            name=op.f('fk_billing_providers_tenant_id_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_billing_providers')),
    sa.UniqueConstraint('npi', name=op.f('uq_billing_providers_npi'))
    )
    with op.batch_alter_table('billing_providers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_billing_providers_tenant_id'), ['tenant_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_billing_providers_tin'), ['tin'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('billing_providers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_billing_providers_tin'))
        batch_op.drop_index(batch_op.f('ix_billing_providers_tenant_id'))
    op.drop_table('billing_providers')
