"""login failures

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 04:11:15.516223
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('takt_login_failures',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_takt_login_failures'))
    )
    with op.batch_alter_table('takt_login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_takt_login_failures_username'), ['username'], unique=False)

    


def downgrade():
    
    with op.batch_alter_table('takt_login_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_takt_login_failures_username'))

    op.drop_table('takt_login_failures')
    
