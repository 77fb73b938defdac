"""payments posted by hand say who posted them

A CLP posted from the exception queue gets a second payment row (the exception row keeps its
history); ``posted_by`` names the biller, so reports count that money once and can tell
automatic postings from manual ones.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 01:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('posted_by', sa.String(length=60), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('posted_by')
