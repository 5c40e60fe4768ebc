"""indicator results, stale marks and job runs; value_chains.high_value_tier

Every (chain, round) that already has observations gets a stale mark, so the first job run computes it.

Revision ID: ea58a63a8ed1
Revises: b0cf2e7c41ef
Create Date: 2026-12-01 03:07:09.939533
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'ea58a63a8ed1'
down_revision: str | Sequence[str] | None = 'b0cf2e7c41ef'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=64), nullable=False),
    sa.Column('task', sa.String(length=64), nullable=False),
    sa.Column('args', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.Enum('running', 'succeeded', 'retrying', 'failed', 'interrupted', name='jobstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('detail', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index('ix_job_runs_status_started', ['status', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_job_runs_task_id'), ['task_id'], unique=False)

    op.create_table('indicator_marks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('value_chain_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('marked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['survey_rounds.id'], name=op.f('fk_indicator_marks_round_id_survey_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['value_chain_id'], ['value_chains.id'], name=op.f('fk_indicator_marks_value_chain_id_value_chains'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_marks')),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('indicator_marks', schema=None) as batch_op:
        batch_op.create_index('ix_indicator_marks_pair', ['value_chain_id', 'round_id', 'id'], unique=False)

    op.create_table('indicator_results',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('value_chain_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=8), nullable=False),
    sa.Column('measure', sa.String(length=40), nullable=False),
    sa.Column('subject', sa.String(length=120), nullable=False),
    sa.Column('disaggregation', sa.String(length=24), nullable=False),
    sa.Column('group_value', sa.String(length=120), nullable=False),
    sa.Column('weighting', sa.String(length=10), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('value', sa.Double(), nullable=True),
    sa.Column('ci_low', sa.Double(), nullable=True),
    sa.Column('ci_high', sa.Double(), nullable=True),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.Column('n_eff', sa.Double(), nullable=True),
    sa.Column('suppressed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['survey_rounds.id'], name=op.f('fk_indicator_results_round_id_survey_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['value_chain_id'], ['value_chains.id'], name=op.f('fk_indicator_results_value_chain_id_value_chains'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_results'))
    )
    with op.batch_alter_table('indicator_results', schema=None) as batch_op:
        batch_op.create_index('ix_indicator_results_pair_code', ['value_chain_id', 'round_id', 'code'], unique=False)

    op.create_table('indicator_sets',
    sa.Column('value_chain_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('method_version', sa.String(length=32), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('snapshot_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('watermark', sa.BigInteger(), nullable=False),
    sa.Column('data_as_of', sa.DateTime(timezone=True), nullable=True),
    sa.Column('firms', sa.Integer(), nullable=False),
    sa.Column('decisions', sa.Integer(), nullable=False),
    sa.Column('results', sa.Integer(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['survey_rounds.id'], name=op.f('fk_indicator_sets_round_id_survey_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['value_chain_id'], ['value_chains.id'], name=op.f('fk_indicator_sets_value_chain_id_value_chains'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('value_chain_id', 'round_id', name=op.f('pk_indicator_sets'))
    )
    with op.batch_alter_table('value_chains', schema=None) as batch_op:
        batch_op.add_column(sa.Column('high_value_tier', sa.Integer(), nullable=True))

    op.execute(
        "INSERT INTO indicator_marks (value_chain_id, round_id, reason, marked_at) "
        "SELECT DISTINCT f.value_chain_id, o.round_id, 'migration', CURRENT_TIMESTAMP "
        "FROM firm_observations o JOIN firms f ON f.id = o.firm_id"
    )



def downgrade() -> None:
    with op.batch_alter_table('value_chains', schema=None) as batch_op:
        batch_op.drop_column('high_value_tier')

    op.drop_table('indicator_sets')
    with op.batch_alter_table('indicator_results', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_results_pair_code')

    op.drop_table('indicator_results')
    with op.batch_alter_table('indicator_marks', schema=None) as batch_op:
        batch_op.drop_index('ix_indicator_marks_pair')

    op.drop_table('indicator_marks')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_runs_task_id'))
        batch_op.drop_index('ix_job_runs_status_started')

    op.drop_table('job_runs')
