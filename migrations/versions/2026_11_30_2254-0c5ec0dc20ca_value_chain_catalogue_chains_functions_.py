"""value-chain catalogue: chains, functions, end markets, practices, reasons

Revision ID: 0c5ec0dc20ca
Revises: 3a7e4973e938
Create Date: 2026-11-30 22:54:49.985898
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0c5ec0dc20ca'
down_revision: str | Sequence[str] | None = '3a7e4973e938'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('reason_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=48), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('label_fr', sa.String(length=200), nullable=False),
    sa.Column('category', sa.Enum('information', 'cost_finance', 'risk', 'market', 'time', 'capability', 'inputs', 'social_gender', 'tried_failed', 'other', name='reasoncategory', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reason_codes')),
    sa.UniqueConstraint('code', name=op.f('uq_reason_codes_code'))
    )
    op.create_table('value_chains',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_fr', sa.String(length=200), nullable=False),
    sa.Column('country_iso3', sa.String(length=3), nullable=False),
    sa.Column('product', sa.String(length=200), nullable=False),
    sa.Column('sector', sa.Enum('agriculture', 'handicraft', 'other', name='sector', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reference_period_months', sa.Integer(), nullable=False),
    sa.Column('is_illustrative', sa.Boolean(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('sources', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_value_chains')),
    sa.UniqueConstraint('code', name=op.f('uq_value_chains_code'))
    )
    op.create_table('chain_functions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value_chain_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_fr', sa.String(length=200), nullable=False),
    sa.Column('value_added_rank', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['value_chain_id'], ['value_chains.id'], name=op.f('fk_chain_functions_value_chain_id_value_chains')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chain_functions')),
    sa.UniqueConstraint('value_chain_id', 'code', name=op.f('uq_chain_functions_value_chain_id_code'))
    )
    op.create_table('end_markets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value_chain_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_fr', sa.String(length=200), nullable=False),
    sa.Column('tier', sa.Integer(), nullable=False),
    sa.Column('is_export', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['value_chain_id'], ['value_chains.id'], name=op.f('fk_end_markets_value_chain_id_value_chains')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_end_markets')),
    sa.UniqueConstraint('value_chain_id', 'code', name=op.f('uq_end_markets_value_chain_id_code'))
    )
    op.create_table('upgrading_practices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value_chain_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=48), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_fr', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('upgrading_type', sa.Enum('process', 'product', 'functional', 'channel', name='upgradingtype', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('target_function_id', sa.Integer(), nullable=True),
    sa.Column('target_end_market_id', sa.Integer(), nullable=True),
    sa.Column('promoted_by_program', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.CheckConstraint("(upgrading_type = 'channel') = (target_end_market_id IS NOT NULL)", name=op.f('ck_upgrading_practices_channel_has_target')),
    sa.CheckConstraint("(upgrading_type = 'functional') = (target_function_id IS NOT NULL)", name=op.f('ck_upgrading_practices_functional_has_target')),
    sa.ForeignKeyConstraint(['target_end_market_id'], ['end_markets.id'], name=op.f('fk_upgrading_practices_target_end_market_id_end_markets')),
    sa.ForeignKeyConstraint(['target_function_id'], ['chain_functions.id'], name=op.f('fk_upgrading_practices_target_function_id_chain_functions')),
    sa.ForeignKeyConstraint(['value_chain_id'], ['value_chains.id'], name=op.f('fk_upgrading_practices_value_chain_id_value_chains')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_upgrading_practices')),
    sa.UniqueConstraint('value_chain_id', 'code', name=op.f('uq_upgrading_practices_value_chain_id_code'))
    )


def downgrade() -> None:
    op.drop_table('upgrading_practices')
    op.drop_table('end_markets')
    op.drop_table('chain_functions')
    op.drop_table('value_chains')
    op.drop_table('reason_codes')
