"""automations

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 04:17:09.280301
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('takt_automation_runs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('app_slug', sa.String(length=24), nullable=False),
    sa.Column('automation', sa.String(length=60), nullable=False),
    sa.Column('event', sa.String(length=20), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('table_name', sa.String(length=30), nullable=True),
    sa.Column('record_id', sa.BigInteger(), nullable=True),
    sa.Column('inputs', sa.JSON(), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_takt_automation_runs'))
    )
    with op.batch_alter_table('takt_automation_runs', schema=None) as batch_op:
        batch_op.create_index('ix_takt_automation_runs_last', ['app_slug', 'automation', 'started_at'], unique=False)

    op.create_table('takt_webhook_deliveries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('app_slug', sa.String(length=24), nullable=False),
    sa.Column('table_name', sa.String(length=30), nullable=True),
    sa.Column('record_id', sa.BigInteger(), nullable=True),
    sa.Column('event', sa.String(length=20), nullable=False),
    sa.Column('source', sa.String(length=80), nullable=False),
    sa.Column('url', sa.String(length=2000), nullable=False),
    sa.Column('secret', sa.String(length=200), nullable=True),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_takt_webhook_deliveries'))
    )
    with op.batch_alter_table('takt_webhook_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_takt_webhook_deliveries_status'), ['status'], unique=False)

    op.create_table('takt_notifications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('app_slug', sa.String(length=24), nullable=True),
    sa.Column('table_name', sa.String(length=30), nullable=True),
    sa.Column('record_id', sa.BigInteger(), nullable=True),
    sa.Column('source', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['takt_users.id'], name=op.f('fk_takt_notifications_user_id_takt_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_takt_notifications'))
    )
    with op.batch_alter_table('takt_notifications', schema=None) as batch_op:
        batch_op.create_index('ix_takt_notifications_user', ['user_id', 'read_at'], unique=False)

    op.create_table('takt_webhook_attempts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('delivery_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['takt_webhook_deliveries.id'], name=op.f('fk_takt_webhook_attempts_delivery_id_takt_webhook_deliveries'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_takt_webhook_attempts'))
    )
    with op.batch_alter_table('takt_webhook_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_takt_webhook_attempts_delivery_id'), ['delivery_id'], unique=False)



def downgrade():
    with op.batch_alter_table('takt_webhook_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_takt_webhook_attempts_delivery_id'))

    op.drop_table('takt_webhook_attempts')
    with op.batch_alter_table('takt_notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_takt_notifications_user')

    op.drop_table('takt_notifications')
    with op.batch_alter_table('takt_webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_takt_webhook_deliveries_status'))

    op.drop_table('takt_webhook_deliveries')
    with op.batch_alter_table('takt_automation_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_takt_automation_runs_last')

    op.drop_table('takt_automation_runs')
