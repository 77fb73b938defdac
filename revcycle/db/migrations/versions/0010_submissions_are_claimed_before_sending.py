"""submissions are claimed before sending

A run claims a PENDING submission (PENDING -> SENDING, with its run id and the time) in one
conditional update before it sends, so two runs at once never send one interchange twice;
a claim older than the send lease is taken over (its sender died).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sending_run', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('sending_since', sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_column('sending_since')
        batch_op.drop_column('sending_run')
