"""files keep their defects and the other names they arrived under

Envelope and character-set defects that a file is read despite (a wrong SE01, an ISA13
reused across files, bytes that are not UTF-8) were thrown away; they are kept on the file
row for the run report, with the file's ISA13 to find one reused by a later file. The same
content dropped again under another name is recorded there too.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('defects', sa.JSON(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(sa.Column('other_source_keys', sa.JSON(), nullable=False,
                                      server_default='[]'))
        batch_op.add_column(sa.Column('interchange_control_number', sa.String(length=9),
                                      nullable=False, server_default=''))
        batch_op.create_index('ix_files_tenant_isa13',
                              ['tenant_id', 'interchange_control_number'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.drop_index('ix_files_tenant_isa13')
        batch_op.drop_column('interchange_control_number')
        batch_op.drop_column('other_source_keys')
        batch_op.drop_column('defects')
