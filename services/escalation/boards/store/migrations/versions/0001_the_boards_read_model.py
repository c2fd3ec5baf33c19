"""the boards read model

Revision ID: 0001
Revises: 
Create Date: 2026-11-30 19:32:32
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

OPEN = sa.text('resolved_at IS NULL')


def upgrade() -> None:
    op.create_table('board_cases',
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('changelog_offset', sa.BigInteger(), nullable=False),
    sa.Column('region_id', sa.String(length=63), nullable=False),
    sa.Column('store_id', sa.String(length=63), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('severity', sa.String(length=30), nullable=False),
    sa.Column('severity_rank', sa.SmallInteger(), nullable=False),
    sa.Column('mood', sa.String(length=30), nullable=False),
    sa.Column('channel', sa.String(length=30), nullable=False),
    sa.Column('tier', sa.String(length=30), nullable=False),
    sa.Column('staff_id', sa.String(length=63), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledge_by', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolve_by', sa.DateTime(timezone=True), nullable=False),
    sa.Column('breaches', sa.Integer(), nullable=False),
    sa.Column('breached_tiers', sa.String(length=200), nullable=False),
    sa.Column('first_breach_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('paged', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('complaint_id')
    )
    with op.batch_alter_table('board_cases', schema=None) as batch_op:
        # a region's open complaints in board order, and their counts
        batch_op.create_index('ix_board_cases_open', ['region_id', sa.text('breaches DESC'), sa.text('paged DESC'),
                              'severity_rank', 'filed_at', 'complaint_id'], unique=False,
                              postgresql_where=OPEN, sqlite_where=OPEN)
        batch_op.create_index('ix_board_cases_open_store', ['region_id', 'store_id'], unique=False,
                              postgresql_where=OPEN, sqlite_where=OPEN)
        batch_op.create_index('ix_board_cases_resolved', ['region_id', 'resolved_at'], unique=False)

    op.create_table('board_offsets',
    sa.Column('changelog_partition', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('next_offset', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('changelog_partition')
    )


def downgrade() -> None:
    op.drop_table('board_offsets')
    with op.batch_alter_table('board_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_board_cases_resolved')
        batch_op.drop_index('ix_board_cases_open')
        batch_op.drop_index('ix_board_cases_open_store', postgresql_where=OPEN, sqlite_where=OPEN)

    op.drop_table('board_cases')
