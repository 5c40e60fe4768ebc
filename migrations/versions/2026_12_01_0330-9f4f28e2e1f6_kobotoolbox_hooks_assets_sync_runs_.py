"""kobotoolbox hooks, assets, sync runs, record identity and raw payloads

New tables only (nothing existing changes), so this revision can be re-parented freely when merged.

Revision ID: 9f4f28e2e1f6
Revises: ea58a63a8ed1
Create Date: 2026-12-01 03:30:20.528984
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '9f4f28e2e1f6'
down_revision: str | Sequence[str] | None = 'ea58a63a8ed1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('kobo_assets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('server_url', sa.String(length=255), nullable=False),
    sa.Column('asset_uid', sa.String(length=64), nullable=False),
    sa.Column('token_env', sa.String(length=128), nullable=False),
    sa.Column('form_pk', sa.Integer(), nullable=True),
    sa.Column('import_form', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.Column('deployed_version_id', sa.String(length=64), nullable=True),
    sa.Column('watermark_id', sa.BigInteger(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['form_pk'], ['forms.id'], name=op.f('fk_kobo_assets_form_pk_forms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kobo_assets')),
    sa.UniqueConstraint('server_url', 'asset_uid', name=op.f('uq_kobo_assets_server_url_asset_uid'))
    )
    with op.batch_alter_table('kobo_assets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kobo_assets_form_pk'), ['form_pk'], unique=False)

    op.create_table('kobo_hooks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('form_pk', sa.Integer(), nullable=False),
    sa.Column('auth_mode', sa.Enum('token', 'basic', 'header', name='koboauthmode', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('token_prefix', sa.String(length=8), nullable=False),
    sa.Column('basic_username', sa.String(length=128), nullable=True),
    sa.Column('header_name', sa.String(length=64), nullable=True),
    sa.Column('secret_hash', sa.String(length=64), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_delivery_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_error_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_count', sa.Integer(), nullable=False),
    sa.Column('edited_count', sa.Integer(), nullable=False),
    sa.Column('duplicate_count', sa.Integer(), nullable=False),
    sa.Column('rejected_count', sa.Integer(), nullable=False),
    sa.Column('failed_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['form_pk'], ['forms.id'], name=op.f('fk_kobo_hooks_form_pk_forms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kobo_hooks')),
    sa.UniqueConstraint('name', name=op.f('uq_kobo_hooks_name')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_kobo_hooks_token_hash'))
    )
    with op.batch_alter_table('kobo_hooks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kobo_hooks_form_pk'), ['form_pk'], unique=False)

    op.create_table('kobo_form_versions',
    sa.Column('form_pk', sa.Integer(), nullable=False),
    sa.Column('kpi_version', sa.String(length=64), nullable=False),
    sa.Column('form_version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['form_pk'], ['forms.id'], name=op.f('fk_kobo_form_versions_form_pk_forms')),
    sa.ForeignKeyConstraint(['form_version_id'], ['form_versions.id'], name=op.f('fk_kobo_form_versions_form_version_id_form_versions')),
    sa.PrimaryKeyConstraint('form_pk', 'kpi_version', name=op.f('pk_kobo_form_versions'))
    )
    op.create_table('kobo_sync_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('running', 'succeeded', 'failed', 'interrupted', name='syncstatus', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('watermark_from', sa.BigInteger(), nullable=True),
    sa.Column('watermark_to', sa.BigInteger(), nullable=True),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('created_count', sa.Integer(), nullable=False),
    sa.Column('edited_count', sa.Integer(), nullable=False),
    sa.Column('unchanged_count', sa.Integer(), nullable=False),
    sa.Column('deleted_count', sa.Integer(), nullable=False),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('form_imported', sa.String(length=255), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('problems', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['kobo_assets.id'], name=op.f('fk_kobo_sync_runs_asset_id_kobo_assets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kobo_sync_runs'))
    )
    with op.batch_alter_table('kobo_sync_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kobo_sync_runs_asset_id'), ['asset_id'], unique=False)

    op.create_table('kobo_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('form_pk', sa.Integer(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=True),
    sa.Column('kobo_id', sa.BigInteger(), nullable=True),
    sa.Column('root_uuid', sa.String(length=255), nullable=True),
    sa.Column('current_uuid', sa.String(length=255), nullable=False),
    sa.Column('submitted_by', sa.String(length=150), nullable=True),
    sa.Column('submission_time', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['asset_id'], ['kobo_assets.id'], name=op.f('fk_kobo_records_asset_id_kobo_assets')),
    sa.ForeignKeyConstraint(['form_pk'], ['forms.id'], name=op.f('fk_kobo_records_form_pk_forms')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_kobo_records_submission_id_submissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kobo_records')),
    sa.UniqueConstraint('form_pk', 'kobo_id', name=op.f('uq_kobo_records_form_pk_kobo_id')),
    sa.UniqueConstraint('form_pk', 'root_uuid', name=op.f('uq_kobo_records_form_pk_root_uuid')),
    sa.UniqueConstraint('submission_id', name=op.f('uq_kobo_records_submission_id'))
    )
    with op.batch_alter_table('kobo_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kobo_records_asset_id'), ['asset_id'], unique=False)

    op.create_table('kobo_payloads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.Enum('hook', 'sync', name='kobosource', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('hook_id', sa.Integer(), nullable=True),
    sa.Column('asset_id', sa.Integer(), nullable=True),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('body', sa.LargeBinary().with_variant(postgresql.BYTEA(), 'postgresql'), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['kobo_assets.id'], name=op.f('fk_kobo_payloads_asset_id_kobo_assets')),
    sa.ForeignKeyConstraint(['hook_id'], ['kobo_hooks.id'], name=op.f('fk_kobo_payloads_hook_id_kobo_hooks')),
    sa.ForeignKeyConstraint(['record_id'], ['kobo_records.id'], name=op.f('fk_kobo_payloads_record_id_kobo_records')),
    sa.ForeignKeyConstraint(['version_id'], ['submission_versions.id'], name=op.f('fk_kobo_payloads_version_id_submission_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kobo_payloads')),
    sa.UniqueConstraint('version_id', name=op.f('uq_kobo_payloads_version_id'))
    )
    with op.batch_alter_table('kobo_payloads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kobo_payloads_record_id'), ['record_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('kobo_payloads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kobo_payloads_record_id'))

    op.drop_table('kobo_payloads')
    with op.batch_alter_table('kobo_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kobo_records_asset_id'))

    op.drop_table('kobo_records')
    with op.batch_alter_table('kobo_sync_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kobo_sync_runs_asset_id'))

    op.drop_table('kobo_sync_runs')
    op.drop_table('kobo_form_versions')
    with op.batch_alter_table('kobo_hooks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kobo_hooks_form_pk'))

    op.drop_table('kobo_hooks')
    with op.batch_alter_table('kobo_assets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kobo_assets_form_pk'))

    op.drop_table('kobo_assets')
