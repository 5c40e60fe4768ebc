"""api tokens (SHA-256 only) and submission review history for the JSON API

Revision ID: b0cf2e7c41ef
Revises: ea8f9ef424b5
Create Date: 2026-11-30 23:15:56.756758
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b0cf2e7c41ef'
down_revision: str | Sequence[str] | None = 'ea8f9ef424b5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash'))
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('submission_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('hasIssues', 'edited', 'rejected', 'approved', name='reviewstate', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_submission_reviews_submission_id_submissions')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_submission_reviews_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_reviews'))
    )
    with op.batch_alter_table('submission_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_reviews_submission_id'), ['submission_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('submission_reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_reviews_submission_id'))

    op.drop_table('submission_reviews')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))

    op.drop_table('api_tokens')
