"""claims say which payer order they were sent in; payments name a crossover payer

``claims.payer_responsibility`` is the claim's SBR01 as we sent it (P primary, S
secondary, T tertiary, ...; "" for claims ingested before), so posting can tell a payer
that processed a primary claim as secondary (CLP02 2 or 3) — a coordination-of-benefits
problem. ``payments.crossover_payer_id`` and ``crossover_payer_name`` are the payer a
crossover claim (CLP02 19-21) was forwarded to (NM1*TT), and ``payments.note`` explains a
CLP that was recorded but not posted as a payment (a predetermination, CLP02 25).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('payer_responsibility', sa.String(length=1),
                                      nullable=False, server_default=''))
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('crossover_payer_id', sa.String(length=80),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('crossover_payer_name', sa.String(length=60),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('note', sa.String(length=200), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('note')
        batch_op.drop_column('crossover_payer_name')
        batch_op.drop_column('crossover_payer_id')
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_column('payer_responsibility')
