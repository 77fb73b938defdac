"""stage runs are audited

An append-only table of which run (the Prefect flow run, else the process) touched which
batch (and payer) in which stage, when, and what it did in counts. The code only ever inserts into it;
on PostgreSQL a trigger refuses UPDATE and DELETE besides.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

REFUSE = """
CREATE FUNCTION stage_runs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'stage_runs is append-only: % refused', TG_OP;
END $$;
CREATE TRIGGER stage_runs_append_only BEFORE UPDATE OR DELETE ON stage_runs
    FOR EACH ROW EXECUTE FUNCTION stage_runs_append_only();
"""


def upgrade() -> None:
    op.create_table('stage_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.String(length=64), nullable=False),
    sa.Column('stage', sa.String(length=40), nullable=False),
    sa.Column('batch_id', sa.String(length=100), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('payer_id', sa.String(length=80), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_runs'))
    )
    with op.batch_alter_table('stage_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stage_runs_batch_id'), ['batch_id'], unique=False)
        batch_op.create_index('ix_stage_runs_tenant_at', ['tenant_id', 'at'], unique=False)
    if op.get_context().dialect.name == 'postgresql':
        op.execute(REFUSE)


def downgrade() -> None:
    if op.get_context().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER stage_runs_append_only ON stage_runs')
        op.execute('DROP FUNCTION stage_runs_append_only()')
    with op.batch_alter_table('stage_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_stage_runs_tenant_at')
        batch_op.drop_index(batch_op.f('ix_stage_runs_batch_id'))
    op.drop_table('stage_runs')
