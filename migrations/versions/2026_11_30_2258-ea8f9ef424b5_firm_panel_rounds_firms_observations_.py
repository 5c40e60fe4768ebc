"""firm panel: rounds, firms, observations, decisions; submission processing state; form mapping

Revision ID: ea8f9ef424b5
Revises: 0c5ec0dc20ca
Create Date: 2026-11-30 22:58:39.245154
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'ea8f9ef424b5'
down_revision: str | Sequence[str] | None = '0c5ec0dc20ca'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('survey_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('baseline', 'midline', 'endline', 'monitoring', name='roundkind', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('status', sa.Enum('planned', 'open', 'closed', 'locked', name='roundstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('fieldwork_start', sa.Date(), nullable=True),
    sa.Column('fieldwork_end', sa.Date(), nullable=True),
    sa.Column('reference_period_start', sa.Date(), nullable=True),
    sa.Column('reference_period_end', sa.Date(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('deflator_to_base', sa.Numeric(precision=12, scale=6), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_rounds')),
    sa.UniqueConstraint('code', name=op.f('uq_survey_rounds_code'))
    )
    op.create_table('firms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('panel_code', sa.String(length=40), nullable=False),
    sa.Column('value_chain_id', sa.Integer(), nullable=False),
    sa.Column('admin1', sa.String(length=100), nullable=True),
    sa.Column('admin2', sa.String(length=100), nullable=True),
    sa.Column('admin3', sa.String(length=100), nullable=True),
    sa.Column('urban_rural', sa.String(length=16), nullable=True),
    sa.Column('year_started', sa.Integer(), nullable=True),
    sa.Column('legal_status', sa.String(length=16), nullable=True),
    sa.Column('group_member', sa.Boolean(), nullable=True),
    sa.Column('base_weight', sa.Double(), nullable=False),
    sa.Column('baseline_round_id', sa.Integer(), nullable=True),
    sa.Column('registered_by_submission_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['baseline_round_id'], ['survey_rounds.id'], name=op.f('fk_firms_baseline_round_id_survey_rounds')),
    sa.ForeignKeyConstraint(['registered_by_submission_id'], ['submissions.id'], name=op.f('fk_firms_registered_by_submission_id_submissions')),
    sa.ForeignKeyConstraint(['value_chain_id'], ['value_chains.id'], name=op.f('fk_firms_value_chain_id_value_chains')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_firms')),
    sa.UniqueConstraint('panel_code', name=op.f('uq_firms_panel_code')),
    sa.UniqueConstraint('registered_by_submission_id', name=op.f('uq_firms_registered_by_submission_id'))
    )
    with op.batch_alter_table('firms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_firms_value_chain_id'), ['value_chain_id'], unique=False)

    op.create_table('firm_contacts',
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('firm_name', sa.String(length=200), nullable=True),
    sa.Column('owner_name', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=50), nullable=True),
    sa.Column('gps_lat', sa.Double(), nullable=True),
    sa.Column('gps_lon', sa.Double(), nullable=True),
    sa.Column('gps_accuracy', sa.Double(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['firm_id'], ['firms.id'], name=op.f('fk_firm_contacts_firm_id_firms')),
    sa.PrimaryKeyConstraint('firm_id', name=op.f('pk_firm_contacts'))
    )
    op.create_table('firm_observations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('interview_start', sa.DateTime(timezone=True), nullable=True),
    sa.Column('interview_end', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('respondent_role', sa.String(length=16), nullable=True),
    sa.Column('owner_sex', sa.String(length=16), nullable=True),
    sa.Column('owner_birth_year', sa.Integer(), nullable=True),
    sa.Column('owner_education', sa.String(length=16), nullable=True),
    sa.Column('workers_family', sa.Integer(), nullable=True),
    sa.Column('workers_hired', sa.Integer(), nullable=True),
    sa.Column('workers_female', sa.Integer(), nullable=True),
    sa.Column('scale_units', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('scale_unit', sa.String(length=32), nullable=True),
    sa.Column('production_qty', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('sales_value', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('input_cost', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('hired_labour_cost', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('other_costs', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('net_income', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('received_training', sa.Boolean(), nullable=True),
    sa.Column('received_embedded_services', sa.Boolean(), nullable=True),
    sa.Column('has_written_contract', sa.Boolean(), nullable=True),
    sa.Column('credit_received', sa.Boolean(), nullable=True),
    sa.Column('credit_amount', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('credit_source', sa.String(length=32), nullable=True),
    sa.Column('number_of_buyers', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['firm_id'], ['firms.id'], name=op.f('fk_firm_observations_firm_id_firms')),
    sa.ForeignKeyConstraint(['round_id'], ['survey_rounds.id'], name=op.f('fk_firm_observations_round_id_survey_rounds')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_firm_observations_submission_id_submissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_firm_observations')),
    sa.UniqueConstraint('firm_id', 'round_id', name=op.f('uq_firm_observations_firm_id_round_id')),
    sa.UniqueConstraint('submission_id', name=op.f('uq_firm_observations_submission_id'))
    )
    with op.batch_alter_table('firm_observations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_firm_observations_round_id'), ['round_id'], unique=False)

    op.create_table('firm_rounds',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('participant_status', sa.Enum('participant', 'comparison', 'unknown', name='participantstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('round_weight', sa.Double(), nullable=False),
    sa.Column('interviewed', sa.Boolean(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['firm_id'], ['firms.id'], name=op.f('fk_firm_rounds_firm_id_firms')),
    sa.ForeignKeyConstraint(['round_id'], ['survey_rounds.id'], name=op.f('fk_firm_rounds_round_id_survey_rounds')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_firm_rounds_submission_id_submissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_firm_rounds')),
    sa.UniqueConstraint('firm_id', 'round_id', name=op.f('uq_firm_rounds_firm_id_round_id')),
    sa.UniqueConstraint('submission_id', name=op.f('uq_firm_rounds_submission_id'))
    )
    with op.batch_alter_table('firm_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_firm_rounds_round_id'), ['round_id'], unique=False)

    op.create_table('functions_performed',
    sa.Column('observation_id', sa.Integer(), nullable=False),
    sa.Column('chain_function_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['chain_function_id'], ['chain_functions.id'], name=op.f('fk_functions_performed_chain_function_id_chain_functions')),
    sa.ForeignKeyConstraint(['observation_id'], ['firm_observations.id'], name=op.f('fk_functions_performed_observation_id_firm_observations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('observation_id', 'chain_function_id', name=op.f('pk_functions_performed'))
    )
    op.create_table('sales_by_channel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('observation_id', sa.Integer(), nullable=False),
    sa.Column('end_market_id', sa.Integer(), nullable=False),
    sa.Column('buyer_type', sa.String(length=16), nullable=True),
    sa.Column('qty', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('value', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('contract', sa.Boolean(), nullable=True),
    sa.Column('embedded_services', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['end_market_id'], ['end_markets.id'], name=op.f('fk_sales_by_channel_end_market_id_end_markets')),
    sa.ForeignKeyConstraint(['observation_id'], ['firm_observations.id'], name=op.f('fk_sales_by_channel_observation_id_firm_observations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sales_by_channel'))
    )
    with op.batch_alter_table('sales_by_channel', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sales_by_channel_observation_id'), ['observation_id'], unique=False)

    op.create_table('upgrading_decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('observation_id', sa.Integer(), nullable=False),
    sa.Column('firm_id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('practice_id', sa.Integer(), nullable=False),
    sa.Column('aware', sa.Boolean(), nullable=True),
    sa.Column('status', sa.Enum('adopted', 'tried', 'abandoned', 'not_adopted', name='decisionstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('applied_in_period', sa.Boolean(), nullable=False),
    sa.Column('first_year_applied', sa.Integer(), nullable=True),
    sa.Column('last_year_applied', sa.Integer(), nullable=True),
    sa.Column('scale_share', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('investment_cost', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.Column('financing_source', sa.String(length=32), nullable=True),
    sa.Column('information_source', sa.String(length=32), nullable=True),
    sa.Column('perceived_benefit', sa.SmallInteger(), nullable=True),
    sa.Column('perceived_cost', sa.SmallInteger(), nullable=True),
    sa.Column('perceived_risk', sa.SmallInteger(), nullable=True),
    sa.CheckConstraint('perceived_benefit BETWEEN 1 AND 5', name=op.f('ck_upgrading_decisions_benefit_likert')),
    sa.CheckConstraint('perceived_cost BETWEEN 1 AND 5', name=op.f('ck_upgrading_decisions_cost_likert')),
    sa.CheckConstraint('perceived_risk BETWEEN 1 AND 5', name=op.f('ck_upgrading_decisions_risk_likert')),
    sa.ForeignKeyConstraint(['firm_id'], ['firms.id'], name=op.f('fk_upgrading_decisions_firm_id_firms')),
    sa.ForeignKeyConstraint(['observation_id'], ['firm_observations.id'], name=op.f('fk_upgrading_decisions_observation_id_firm_observations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['practice_id'], ['upgrading_practices.id'], name=op.f('fk_upgrading_decisions_practice_id_upgrading_practices')),
    sa.ForeignKeyConstraint(['round_id'], ['survey_rounds.id'], name=op.f('fk_upgrading_decisions_round_id_survey_rounds')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_upgrading_decisions')),
    sa.UniqueConstraint('firm_id', 'round_id', 'practice_id', name=op.f('uq_upgrading_decisions_firm_id_round_id_practice_id'))
    )
    with op.batch_alter_table('upgrading_decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_upgrading_decisions_observation_id'), ['observation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_upgrading_decisions_practice_id'), ['practice_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_upgrading_decisions_round_id'), ['round_id'], unique=False)

    op.create_table('decision_reasons',
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('reason_code_id', sa.Integer(), nullable=False),
    sa.Column('is_main', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['upgrading_decisions.id'], name=op.f('fk_decision_reasons_decision_id_upgrading_decisions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reason_code_id'], ['reason_codes.id'], name=op.f('fk_decision_reasons_reason_code_id_reason_codes')),
    sa.PrimaryKeyConstraint('decision_id', 'reason_code_id', name=op.f('pk_decision_reasons'))
    )
    with op.batch_alter_table('form_versions', schema=None) as batch_op:
        # existing versions declare no mapping
        batch_op.add_column(sa.Column('mapping', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default=sa.text("'{}'")))

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('processing_status', sa.Enum('mapped', 'needs_review', 'duplicate', 'refused', 'not_mapped', name='processingstatus', native_enum=False, create_constraint=True, length=16), nullable=True))
        batch_op.add_column(sa.Column('processing_errors', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False, server_default=sa.text("'[]'")))
        batch_op.add_column(sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('derived_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('firm_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('round_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_submissions_firm_id'), ['firm_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_processing_status'), ['processing_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_round_id'), ['round_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_submissions_round_id_survey_rounds'), 'survey_rounds', ['round_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_submissions_firm_id_firms'), 'firms', ['firm_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_submissions_firm_id_firms'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_submissions_round_id_survey_rounds'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_submissions_round_id'))
        batch_op.drop_index(batch_op.f('ix_submissions_processing_status'))
        batch_op.drop_index(batch_op.f('ix_submissions_firm_id'))
        batch_op.drop_column('round_id')
        batch_op.drop_column('firm_id')
        batch_op.drop_column('derived_hash')
        batch_op.drop_column('processed_at')
        batch_op.drop_column('processing_errors')
        batch_op.drop_constraint(batch_op.f('ck_submissions_processingstatus'), type_='check')
        batch_op.drop_column('processing_status')

    with op.batch_alter_table('form_versions', schema=None) as batch_op:
        batch_op.drop_column('mapping')

    op.drop_table('decision_reasons')
    with op.batch_alter_table('upgrading_decisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_upgrading_decisions_round_id'))
        batch_op.drop_index(batch_op.f('ix_upgrading_decisions_practice_id'))
        batch_op.drop_index(batch_op.f('ix_upgrading_decisions_observation_id'))

    op.drop_table('upgrading_decisions')
    with op.batch_alter_table('sales_by_channel', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sales_by_channel_observation_id'))

    op.drop_table('sales_by_channel')
    op.drop_table('functions_performed')
    with op.batch_alter_table('firm_rounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_firm_rounds_round_id'))

    op.drop_table('firm_rounds')
    with op.batch_alter_table('firm_observations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_firm_observations_round_id'))

    op.drop_table('firm_observations')
    op.drop_table('firm_contacts')
    with op.batch_alter_table('firms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_firms_value_chain_id'))

    op.drop_table('firms')
    op.drop_table('survey_rounds')
