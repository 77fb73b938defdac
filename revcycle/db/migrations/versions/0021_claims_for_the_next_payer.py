"""claims name the claim they bill the next payer for

``claims.prior_claim_id`` is, on a secondary (or tertiary) claim we made after the prior
payer's 835 posted, the claim that payer adjudicated; NULL on every claim a provider sent.
A secondary claim carries no charge of its own on the books: its receivable is what the
prior payer left (moved from the prior claim's ``AR_NEXT_PAYER``).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 06:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prior_claim_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_claims_prior_claim_id', ['prior_claim_id'], unique=False)
        batch_op.create_foreign_key('fk_claims_prior_claim_id_claims', 'claims',
                                    ['prior_claim_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_constraint('fk_claims_prior_claim_id_claims', type_='foreignkey')
        batch_op.drop_index('ix_claims_prior_claim_id')
        batch_op.drop_column('prior_claim_id')
