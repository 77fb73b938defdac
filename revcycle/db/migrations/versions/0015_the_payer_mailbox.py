"""the payer mailbox: collected files and where each transaction set was routed

Files collected from payers' channels are kept tenant-neutral (``mailbox_files``, unique by
sha256); each transaction set is routed by what it says to a tenant, or left unrouted with
its reason (``mailbox_routes``).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'mailbox_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('payer_id', sa.String(length=80), nullable=False),
        sa.Column('channel', sa.String(length=40), nullable=False),
        sa.Column('remote_name', sa.String(length=400), nullable=False),
        sa.Column('key', sa.String(length=400), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('collected_on', sa.Date(), nullable=False),
        sa.Column('collected_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('sha256'),
    )
    op.create_table(
        'mailbox_routes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('file_id', sa.Integer(), nullable=False),
        sa.Column('set_index', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('control_number', sa.String(length=9), nullable=False),
        sa.Column('tenant_id', sa.String(length=64), nullable=True),
        sa.Column('payer_id', sa.String(length=80), nullable=True),
        sa.Column('key', sa.String(length=400), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('matched_by', sa.String(length=400), nullable=True),
        sa.Column('reason', sa.String(length=40), nullable=True),
        sa.Column('message', sa.String(length=400), nullable=True),
        sa.Column('routed_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['file_id'], ['mailbox_files.id']),
        sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('file_id', 'set_index'),
    )
    op.create_index('ix_mailbox_routes_tenant_payer_kind', 'mailbox_routes',
                    ['tenant_id', 'payer_id', 'kind'])


def downgrade() -> None:
    op.drop_index('ix_mailbox_routes_tenant_payer_kind', table_name='mailbox_routes')
    op.drop_table('mailbox_routes')
    op.drop_table('mailbox_files')
