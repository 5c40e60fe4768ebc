"""initial schema: users, forms, submissions

Revision ID: 3a7e4973e938
Revises:
Create Date: 2026-11-30 22:41:36.578784
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '3a7e4973e938'
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# forms.current_version_id and submissions.current_version_id point at tables created after them. SQLite does
# not check the target at CREATE time (and cannot ALTER in a constraint), so there the key is declared inline;
# PostgreSQL adds it with ALTER TABLE once both tables exist.
LATE_FOREIGN_KEYS = {
    "forms": ("fk_forms_current_version_id_form_versions", "form_versions"),
    "submissions": ("fk_submissions_current_version_id", "submission_versions"),
}


def _inline() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _late_foreign_key(table: str, target: str) -> list[sa.ForeignKeyConstraint]:
    name, _ = LATE_FOREIGN_KEYS[table]
    return [sa.ForeignKeyConstraint(["current_version_id"], [f"{target}.id"], name=name)] if _inline() else []


def upgrade() -> None:
    op.create_table('forms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.String(length=255), nullable=False),
    sa.Column('state', sa.Enum('open', 'closed', name='formstate', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('current_version_id', sa.Integer(), nullable=True),
    *_late_foreign_key('forms', 'form_versions'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forms')),
    sa.UniqueConstraint('form_id', name=op.f('uq_forms_form_id'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('role', sa.Enum('admin', 'manager', 'enumerator', name='role', native_enum=False, create_constraint=True, length=16), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('digest_ha1', sa.String(length=32), nullable=True),
    sa.Column('token', sa.String(length=128), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deactivated_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('token', name=op.f('uq_users_token')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('form_assignments',
    sa.Column('form_pk', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['form_pk'], ['forms.id'], name=op.f('fk_form_assignments_form_pk_forms')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_form_assignments_user_id_users')),
    sa.PrimaryKeyConstraint('form_pk', 'user_id', name=op.f('pk_form_assignments'))
    )
    op.create_table('form_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_pk', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('xml', sa.LargeBinary().with_variant(postgresql.BYTEA(), 'postgresql'), nullable=False),
    sa.Column('md5', sa.String(length=32), nullable=False),
    sa.Column('source_name', sa.String(length=255), nullable=False),
    sa.Column('source', sa.LargeBinary().with_variant(postgresql.BYTEA(), 'postgresql'), nullable=True),
    sa.Column('binary_paths', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('media_names', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('encrypted', sa.Boolean(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['form_pk'], ['forms.id'], name=op.f('fk_form_versions_form_pk_forms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_versions')),
    sa.UniqueConstraint('form_pk', 'version', name=op.f('uq_form_versions_form_pk_version'))
    )
    with op.batch_alter_table('form_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_versions_form_pk'), ['form_pk'], unique=False)

    op.create_table('submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_pk', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.String(length=255), nullable=False),
    sa.Column('current_version_id', sa.Integer(), nullable=True),
    sa.Column('submitter_id', sa.Integer(), nullable=True),
    sa.Column('review_state', sa.Enum('hasIssues', 'edited', 'rejected', 'approved', name='reviewstate', native_enum=False, create_constraint=True, length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    *_late_foreign_key('submissions', 'submission_versions'),
    sa.ForeignKeyConstraint(['form_pk'], ['forms.id'], name=op.f('fk_submissions_form_pk_forms')),
    sa.ForeignKeyConstraint(['submitter_id'], ['users.id'], name=op.f('fk_submissions_submitter_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions')),
    sa.UniqueConstraint('form_pk', 'instance_id', name=op.f('uq_submissions_form_pk_instance_id'))
    )
    op.create_table('form_media',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_version_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('md5', sa.String(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('content_type', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['form_version_id'], ['form_versions.id'], name=op.f('fk_form_media_form_version_id_form_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_media')),
    sa.UniqueConstraint('form_version_id', 'name', name=op.f('uq_form_media_form_version_id_name'))
    )
    with op.batch_alter_table('form_media', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_media_form_version_id'), ['form_version_id'], unique=False)

    op.create_table('submission_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('form_pk', sa.Integer(), nullable=False),
    sa.Column('form_version_id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.String(length=255), nullable=False),
    sa.Column('deprecated_id', sa.String(length=255), nullable=True),
    sa.Column('instance_name', sa.String(length=500), nullable=True),
    sa.Column('xml', sa.LargeBinary().with_variant(postgresql.BYTEA(), 'postgresql'), nullable=False),
    sa.Column('xml_sha256', sa.String(length=64), nullable=False),
    sa.Column('submitter_id', sa.Integer(), nullable=True),
    sa.Column('device_id', sa.String(length=255), nullable=True),
    sa.Column('user_agent', sa.String(length=500), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('encrypted', sa.Boolean(), nullable=False),
    sa.Column('encrypted_key', sa.Text(), nullable=True),
    sa.Column('encrypted_xml_name', sa.String(length=255), nullable=True),
    sa.Column('encrypted_signature', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['form_pk'], ['forms.id'], name=op.f('fk_submission_versions_form_pk_forms')),
    sa.ForeignKeyConstraint(['form_version_id'], ['form_versions.id'], name=op.f('fk_submission_versions_form_version_id_form_versions')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_submission_versions_submission_id_submissions')),
    sa.ForeignKeyConstraint(['submitter_id'], ['users.id'], name=op.f('fk_submission_versions_submitter_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submission_versions')),
    sa.UniqueConstraint('form_pk', 'instance_id', name=op.f('uq_submission_versions_form_pk_instance_id'))
    )
    with op.batch_alter_table('submission_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_versions_form_version_id'), ['form_version_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_submission_versions_submission_id'), ['submission_id'], unique=False)

    op.create_table('attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('content_type', sa.String(length=255), nullable=True),
    sa.Column('encrypted_index', sa.Integer(), nullable=True),
    sa.Column('client_audit', sa.Boolean(), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['version_id'], ['submission_versions.id'], name=op.f('fk_attachments_version_id_submission_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    sa.UniqueConstraint('version_id', 'name', name=op.f('uq_attachments_version_id_name'))
    )
    if not _inline():
        for table, (name, target) in LATE_FOREIGN_KEYS.items():
            op.create_foreign_key(name, table, target, ["current_version_id"], ["id"])


def downgrade() -> None:
    if not _inline():
        for table, (name, _) in LATE_FOREIGN_KEYS.items():
            op.drop_constraint(name, table, type_="foreignkey")
    op.drop_table('attachments')
    with op.batch_alter_table('submission_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_versions_submission_id'))
        batch_op.drop_index(batch_op.f('ix_submission_versions_form_version_id'))

    op.drop_table('submission_versions')
    with op.batch_alter_table('form_media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_media_form_version_id'))

    op.drop_table('form_media')
    op.drop_table('submissions')
    with op.batch_alter_table('form_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_versions_form_pk'))

    op.drop_table('form_versions')
    op.drop_table('form_assignments')
    op.drop_table('users')
    op.drop_table('forms')
