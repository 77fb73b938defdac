"""submissions record their send attempts and the channel that delivered them

A submission tried before (a crash, a give-back after a failed send) asks its payer's
channels whether they already have it before sending again; the channel that took it and
the partner's name for the file are kept for operators.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 00:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('send_attempts', sa.Integer(), nullable=False,
                                      server_default='0'))
        batch_op.add_column(sa.Column('sent_via', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('remote_name', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('remote_name')
        batch_op.drop_column('sent_via')
        batch_op.drop_column('send_attempts')
