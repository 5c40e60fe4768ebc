"""kobo sync runs count the files they download (a server default fills the runs already recorded)

Revision ID: c58588c446c8
Revises: a52be9e6bd33
Create Date: 2026-12-01 21:03:12.926605
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'c58588c446c8'
down_revision: str | Sequence[str] | None = 'a52be9e6bd33'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('kobo_sync_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_count', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('kobo_sync_runs', schema=None) as batch_op:
        batch_op.drop_column('file_count')
