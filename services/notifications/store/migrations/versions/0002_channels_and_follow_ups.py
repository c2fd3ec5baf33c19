"""every notification kind, several recipients per event, channels, follow-ups, preferences

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 14:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

KEPT = ("id, event_id, kind, channel, complaint_id, store_id, region_id, tier, staff_id, recipient_role, event_at, status, "
        "attempts, due_at, claimed_until, last_error, created_at, sent_at, acknowledged_at")


def upgrade() -> None:
    with op.batch_alter_table('deliveries') as batch_op:
        batch_op.drop_index('ix_deliveries_due')
        batch_op.drop_index('ix_deliveries_created_at')
    op.rename_table('deliveries', 'deliveries_0001')
    op.create_table('deliveries',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('step', sa.Integer(), nullable=False, server_default='0'),
    sa.Column('follows', sa.Uuid(), nullable=True),
    sa.Column('complaint_id', sa.Uuid(), nullable=True),
    sa.Column('store_id', sa.String(length=63), nullable=True),
    sa.Column('region_id', sa.String(length=63), nullable=False),
    sa.Column('tier', sa.String(length=30), nullable=True),
    sa.Column('group_role', sa.String(length=30), nullable=True),
    sa.Column('staff_id', sa.String(length=63), nullable=True),
    sa.Column('recipient_role', sa.String(length=30), nullable=True),
    sa.Column('about', sa.String(length=500), nullable=False),
    sa.Column('event_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('follow_up_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('deliveries') as batch_op:
        batch_op.create_index('ix_deliveries_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_deliveries_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_deliveries_follow_up', ['follow_up_at'], unique=False)
        batch_op.create_index('ix_deliveries_event_id', ['event_id'], unique=False)
        batch_op.create_index('ix_deliveries_complaint_id', ['complaint_id'], unique=False)
        batch_op.create_index('ix_deliveries_staff_id', ['staff_id'], unique=False)
    op.execute(f"INSERT INTO deliveries ({KEPT}, about) SELECT {KEPT}, reason FROM deliveries_0001")
    op.drop_table('deliveries_0001')
    op.create_table('preferences',
    sa.Column('staff_id', sa.String(length=63), nullable=False),
    sa.Column('channels', sa.String(length=50), nullable=False),
    sa.Column('quiet_from', sa.Time(), nullable=True),
    sa.Column('quiet_until', sa.Time(), nullable=True),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('staff_id')
    )


def downgrade() -> None:
    op.drop_table('preferences')
    op.drop_table('deliveries')
    op.create_table('deliveries',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('store_id', sa.String(length=63), nullable=False),
    sa.Column('region_id', sa.String(length=63), nullable=False),
    sa.Column('tier', sa.String(length=30), nullable=False),
    sa.Column('staff_id', sa.String(length=63), nullable=True),
    sa.Column('recipient_role', sa.String(length=30), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('event_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_id')
    )
    with op.batch_alter_table('deliveries') as batch_op:
        batch_op.create_index('ix_deliveries_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_deliveries_due', ['status', 'due_at'], unique=False)
