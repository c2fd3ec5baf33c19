"""coaching and development: training proposals, complaint facts, coaching notes

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('training_proposals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('site_id', sa.String(length=63), nullable=False),
    sa.Column('region_id', sa.String(length=63), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('cause', sa.String(length=30), nullable=False),
    sa.Column('cause_ref', sa.String(length=200), nullable=False),
    sa.Column('staff_ids', sa.JSON(), nullable=False),
    sa.Column('problem_id', sa.Uuid(), nullable=True),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decided_by', sa.String(length=63), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('session_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['training_sessions.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('site_id', 'cause', 'cause_ref', name='uq_training_proposals_cause')
    )
    op.create_index('ix_training_proposals_region_time', 'training_proposals', ['region_id', 'proposed_at'], unique=False)
    op.create_table('complaint_facts',
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('site_id', sa.String(length=63), nullable=False),
    sa.Column('region_id', sa.String(length=63), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=True),
    sa.Column('mood', sa.String(length=20), nullable=True),
    sa.Column('severity', sa.String(length=20), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=True),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('escalated', sa.Boolean(), nullable=False),
    sa.Column('resolved_by', sa.String(length=63), nullable=True),
    sa.Column('technique', sa.String(length=30), nullable=True),
    sa.Column('outcome', sa.String(length=30), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('csat_score', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('complaint_id')
    )
    op.create_index('ix_complaint_facts_site_filed', 'complaint_facts', ['site_id', 'filed_at'], unique=False)
    op.create_index('ix_complaint_facts_resolved_by', 'complaint_facts', ['resolved_by'], unique=False)
    op.create_index('ix_complaint_facts_site_resolved', 'complaint_facts', ['site_id', 'resolved_at'], unique=False)
    op.create_table('coaching_notes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('staff_id', sa.String(length=63), nullable=False),
    sa.Column('coach', sa.String(length=63), nullable=False),
    sa.Column('coach_role', sa.String(length=30), nullable=False),
    sa.Column('text', sa.String(length=4000), nullable=False),
    sa.Column('complaint_ids', sa.JSON(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_coaching_notes_staff_time', 'coaching_notes', ['staff_id', 'recorded_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_coaching_notes_staff_time', table_name='coaching_notes')
    op.drop_table('coaching_notes')
    op.drop_index('ix_complaint_facts_site_resolved', table_name='complaint_facts')
    op.drop_index('ix_complaint_facts_resolved_by', table_name='complaint_facts')
    op.drop_index('ix_complaint_facts_site_filed', table_name='complaint_facts')
    op.drop_table('complaint_facts')
    op.drop_index('ix_training_proposals_region_time', table_name='training_proposals')
    op.drop_table('training_proposals')
