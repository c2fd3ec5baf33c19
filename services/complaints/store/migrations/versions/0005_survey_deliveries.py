"""survey deliveries: the CSAT survey link sent to the customer on resolution

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from services.shared.db import UtcDateTime

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('survey_deliveries',
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('survey_token', sa.String(length=64), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('due_at', UtcDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('created_at', UtcDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', UtcDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('survey_deliveries', schema=None) as batch_op:
        batch_op.create_index('ix_survey_deliveries_due', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_deliveries_complaint_id'), ['complaint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_deliveries_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_deliveries_survey_token'), ['survey_token'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('survey_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_deliveries_survey_token'))
        batch_op.drop_index(batch_op.f('ix_survey_deliveries_created_at'))
        batch_op.drop_index(batch_op.f('ix_survey_deliveries_complaint_id'))
        batch_op.drop_index('ix_survey_deliveries_due')

    op.drop_table('survey_deliveries')
