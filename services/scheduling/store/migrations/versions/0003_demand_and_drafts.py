"""demand and drafts

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('demand_counts',
    sa.Column('site_id', sa.String(length=63), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('weekday', sa.Integer(), nullable=False),
    sa.Column('hour', sa.Integer(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ),
    sa.PrimaryKeyConstraint('site_id', 'week_start', 'weekday', 'hour')
    )
    op.create_table('drafted_shifts',
    sa.Column('shift_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['shift_id'], ['shifts.id'], ),
    sa.PrimaryKeyConstraint('shift_id')
    )


def downgrade() -> None:
    op.drop_table('drafted_shifts')
    op.drop_table('demand_counts')
