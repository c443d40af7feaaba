"""system tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-28 03:27:40.483368
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('takt_apps',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('slug', sa.String(length=24), nullable=False),
    sa.Column('live_version_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_takt_apps')),
    sa.UniqueConstraint('slug', name=op.f('uq_takt_apps_slug'))
    )
    op.create_table('takt_audit',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('app_slug', sa.String(length=24), nullable=False),
    sa.Column('table_name', sa.String(length=30), nullable=False),
    sa.Column('record_id', sa.BigInteger(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=True),
    sa.Column('username', sa.String(length=80), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_takt_audit'))
    )
    with op.batch_alter_table('takt_audit', schema=None) as batch_op:
        batch_op.create_index('ix_takt_audit_record', ['app_slug', 'table_name', 'record_id'], unique=False)

    op.create_table('takt_jobs',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('cancel_requested', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=True),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_takt_jobs'))
    )
    op.create_table('takt_naming_counters',
    sa.Column('app_slug', sa.String(length=24), nullable=False),
    sa.Column('table_name', sa.String(length=30), nullable=False),
    sa.Column('prefix', sa.String(length=80), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('app_slug', 'table_name', 'prefix', name=op.f('pk_takt_naming_counters'))
    )
    op.create_table('takt_users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('password_hash', sa.String(length=300), nullable=True),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('attributes', sa.JSON(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_takt_users')),
    sa.UniqueConstraint('username', name=op.f('uq_takt_users_username'))
    )
    op.create_table('takt_api_tokens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['takt_users.id'], name=op.f('fk_takt_api_tokens_user_id_takt_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_takt_api_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_takt_api_tokens_token_hash'))
    )
    with op.batch_alter_table('takt_api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_takt_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('takt_app_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('app_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['app_id'], ['takt_apps.id'], name=op.f('fk_takt_app_versions_app_id_takt_apps')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_takt_app_versions')),
    sa.UniqueConstraint('app_id', 'number', name=op.f('uq_takt_app_versions_app_id_number'))
    )
    with op.batch_alter_table('takt_app_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_takt_app_versions_app_id'), ['app_id'], unique=False)

    op.create_table('takt_user_roles',
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('role', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['takt_users.id'], name=op.f('fk_takt_user_roles_user_id_takt_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role', name=op.f('pk_takt_user_roles'))
    )
    


def downgrade():
    
    op.drop_table('takt_user_roles')
    with op.batch_alter_table('takt_app_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_takt_app_versions_app_id'))

    op.drop_table('takt_app_versions')
    with op.batch_alter_table('takt_api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_takt_api_tokens_user_id'))

    op.drop_table('takt_api_tokens')
    op.drop_table('takt_users')
    op.drop_table('takt_naming_counters')
    op.drop_table('takt_jobs')
    with op.batch_alter_table('takt_audit', schema=None) as batch_op:
        batch_op.drop_index('ix_takt_audit_record')

    op.drop_table('takt_audit')
    op.drop_table('takt_apps')
    
