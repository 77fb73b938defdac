"""control number sequences exist from the start

Taking a number is one UPDATE ... RETURNING on the sequence's row, atomic on every
database; the rows must therefore exist before the first submission (two runs creating a
missing row at once would collide).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 00:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

SEQUENCES = ("interchange", "group", "transaction")


def upgrade() -> None:
    table = sa.table("control_numbers", sa.column("name", sa.String),
                     sa.column("next_value", sa.BigInteger))
    connection = op.get_bind()
    existing = set(connection.scalars(sa.select(table.c.name)))
    missing = [{"name": name, "next_value": 1} for name in SEQUENCES if name not in existing]
    if missing:
        op.bulk_insert(table, missing)


def downgrade() -> None:
    pass  # the rows are harmless, and may hold numbers already used
