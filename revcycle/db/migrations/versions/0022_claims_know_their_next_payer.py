"""claims know their next payer; one claim for the next payer per prior claim

``claims.next_payer_id`` is the payer the claim's content names after this one (a 2320
loop with SBR01 S or T that has not adjudicated it: :func:`revcycle.claims.derived.next_payer`),
"" when none: recorded at ingest, correction and when we make a secondary claim, so
posting knows which claims to bill onward without reading any claim's content. Claims
ingested before 0022 have "" (they are not billed onward automatically).

``ix_claims_prior_claim_id`` becomes unique: a prior claim has at most one claim for its
next payer, whatever runs or reruns posting (NULLs, every provider's claim, are distinct).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 07:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_payer_id', sa.String(length=80), nullable=False,
                                      server_default=''))
        batch_op.drop_index('ix_claims_prior_claim_id')
        batch_op.create_index('ix_claims_prior_claim_id', ['prior_claim_id'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('claims', schema=None) as batch_op:
        batch_op.drop_index('ix_claims_prior_claim_id')
        batch_op.create_index('ix_claims_prior_claim_id', ['prior_claim_id'], unique=False)
        batch_op.drop_column('next_payer_id')
