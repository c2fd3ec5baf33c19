"""processed events of the scheduling worker, and the roster refresh

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('processed_events',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_index('ix_processed_events_processed_at', 'processed_events', ['processed_at'], unique=False)
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.add_column(sa.Column('roster_cut', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.bulk_insert(sa.table('leases', sa.column('name', sa.String)), [{'name': 'roster-refresh'}])


def downgrade() -> None:
    op.execute("DELETE FROM leases WHERE name = 'roster-refresh'")
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_column('roster_cut')
    op.drop_index('ix_processed_events_processed_at', table_name='processed_events')
    op.drop_table('processed_events')
