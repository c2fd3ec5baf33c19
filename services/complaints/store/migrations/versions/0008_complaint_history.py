"""a complaint's history: the events of its lifecycle and the escalation's tier moves, for its timeline

Complaints filed before keep what their columns tell: filed, and the last acknowledgement,
resolution and closing.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from services.shared.db import UtcDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    history = op.create_table('complaint_history',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('event', sa.String(length=40), nullable=False),
    sa.Column('at', UtcDateTime(timezone=True), nullable=False),
    sa.Column('by', sa.String(length=63), nullable=True),
    sa.Column('tier', sa.String(length=30), nullable=True),
    sa.Column('assignee', sa.String(length=63), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('complaint_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_history_complaint_id'), ['complaint_id'], unique=False)

    complaints = sa.table('complaints', sa.column('id', sa.Uuid()), sa.column('filed_by', sa.String()),
                          *(sa.column(name, UtcDateTime(timezone=True))
                            for name in ('created_at', 'acknowledged_at', 'resolved_at', 'closed_at')))
    for event, column, by in (('complaint.filed', 'created_at', 'filed_by'), ('complaint.acknowledged', 'acknowledged_at', None),
                              ('complaint.resolved', 'resolved_at', None), ('complaint.closed', 'closed_at', None)):
        at = complaints.c[column]
        op.execute(history.insert().from_select(
            ['complaint_id', 'event', 'at', 'by'],
            sa.select(complaints.c.id, sa.literal(event), at, complaints.c[by] if by else sa.null()).where(at.is_not(None)),
        ))


def downgrade() -> None:
    with op.batch_alter_table('complaint_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_history_complaint_id'))
    op.drop_table('complaint_history')
