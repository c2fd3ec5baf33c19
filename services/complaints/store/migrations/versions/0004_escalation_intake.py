"""the escalation on the complaint: when it came to its assignee, its deadlines, its tier indexed;
and the events the complaints worker has applied

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from services.shared.db import UtcDateTime

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('processed_events',
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('type', sa.String(length=100), nullable=False),
    sa.Column('processed_at', UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    op.create_index('ix_processed_events_processed_at', 'processed_events', ['processed_at'], unique=False)
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assigned_at', UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('acknowledge_by', UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolve_by', UtcDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_complaints_assignee_role'), ['assignee_role'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaints_assignee_role'))
        batch_op.drop_column('resolve_by')
        batch_op.drop_column('acknowledge_by')
        batch_op.drop_column('assigned_at')
    op.drop_index('ix_processed_events_processed_at', table_name='processed_events')
    op.drop_table('processed_events')
