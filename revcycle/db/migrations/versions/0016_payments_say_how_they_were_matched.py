"""payments say how they were matched

Payers cut patient control numbers short, renumber claims, drop line control numbers and
split claims; posting matches by several rules. ``claim_match`` names the claim rule that
matched a CLP (``pcn``, ``payer-claim-number``, ``truncated-pcn``, ``split-part``,
``by-hand``) and ``line_match`` counts its SVCs by line rule (``6R=3 code+date+charge=1
unmatched=0``); both are empty for an exception and for payments posted before.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claim_match', sa.String(length=30), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('line_match', sa.String(length=200), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_column('line_match')
        batch_op.drop_column('claim_match')
