"""xlsx column mappings remembered per app table

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 05:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('takt_xlsx_mappings',
    sa.Column('app_slug', sa.String(length=24), nullable=False),
    sa.Column('table_name', sa.String(length=30), nullable=False),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=True),
    sa.PrimaryKeyConstraint('app_slug', 'table_name', name=op.f('pk_takt_xlsx_mappings'))
    )


def downgrade():
    op.drop_table('takt_xlsx_mappings')
