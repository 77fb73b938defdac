"""a trace number is a tenant's own

A posted 835 made any later 835 of the same payer and trace number a duplicate, whichever
tenant it came for; the posted trace is now unique per tenant and payer, so another
tenant's payment never stops this tenant's from posting.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

POSTED = sa.text("status = 'POSTED'")


def _replace(columns: list[str]) -> None:
    with op.batch_alter_table('remittances', schema=None) as batch_op:
        batch_op.drop_index('uq_remittances_posted_trace', sqlite_where=POSTED,
                            postgresql_where=POSTED)
        batch_op.create_index('uq_remittances_posted_trace', columns, unique=True,
                              sqlite_where=POSTED, postgresql_where=POSTED)


def upgrade() -> None:
    _replace(['tenant_id', 'payer_id', 'trace_number'])


def downgrade() -> None:
    _replace(['payer_id', 'trace_number'])
