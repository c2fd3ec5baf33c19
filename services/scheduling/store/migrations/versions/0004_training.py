"""training

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('promotions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('region_id', sa.String(length=63), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('created_by', sa.String(length=63), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_promotions_region_id', 'promotions', ['region_id'], unique=False)
    op.create_index('ix_promotions_starts_on', 'promotions', ['starts_on'], unique=False)
    op.create_table('training_sessions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('site_id', sa.String(length=63), nullable=False),
    sa.Column('region_id', sa.String(length=63), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('trainer_id', sa.String(length=63), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('promotion_id', sa.Uuid(), nullable=True),
    sa.Column('problem_id', sa.Uuid(), nullable=True),
    sa.Column('created_by', sa.String(length=63), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['promotion_id'], ['promotions.id'], ),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ),
    sa.ForeignKeyConstraint(['trainer_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_training_sessions_site_time', 'training_sessions', ['site_id', 'starts_at'], unique=False)
    op.create_index('ix_training_sessions_region_time', 'training_sessions', ['region_id', 'starts_at'], unique=False)
    op.create_index('ix_training_sessions_trainer_time', 'training_sessions', ['trainer_id', 'starts_at'], unique=False)
    op.create_table('training_enrolments',
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('staff_id', sa.String(length=63), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['training_sessions.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('session_id', 'staff_id')
    )
    op.create_index('ix_training_enrolments_staff_id', 'training_enrolments', ['staff_id'], unique=False)
    op.create_table('onboarding_due',
    sa.Column('staff_id', sa.String(length=63), nullable=False),
    sa.Column('site_id', sa.String(length=63), nullable=False),
    sa.Column('since', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('staff_id')
    )
    op.create_index('ix_onboarding_due_site_id', 'onboarding_due', ['site_id'], unique=False)
    op.create_table('promotion_briefings',
    sa.Column('promotion_id', sa.Uuid(), nullable=False),
    sa.Column('site_id', sa.String(length=63), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=True),
    sa.Column('problem', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['promotion_id'], ['promotions.id'], ),
    sa.ForeignKeyConstraint(['session_id'], ['training_sessions.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ),
    sa.PrimaryKeyConstraint('promotion_id', 'site_id')
    )
    op.create_table('role_play_scenarios',
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('severity', sa.String(length=20), nullable=False),
    sa.Column('mood', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('technique', sa.String(length=30), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['training_sessions.id'], ),
    sa.PrimaryKeyConstraint('session_id', 'number')
    )
    op.create_table('role_play_answers',
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.String(length=63), nullable=False),
    sa.Column('technique', sa.String(length=30), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['training_sessions.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('session_id', 'number', 'staff_id')
    )


def downgrade() -> None:
    op.drop_table('role_play_answers')
    op.drop_table('role_play_scenarios')
    op.drop_table('promotion_briefings')
    op.drop_index('ix_onboarding_due_site_id', table_name='onboarding_due')
    op.drop_table('onboarding_due')
    op.drop_index('ix_training_enrolments_staff_id', table_name='training_enrolments')
    op.drop_table('training_enrolments')
    op.drop_index('ix_training_sessions_trainer_time', table_name='training_sessions')
    op.drop_index('ix_training_sessions_region_time', table_name='training_sessions')
    op.drop_index('ix_training_sessions_site_time', table_name='training_sessions')
    op.drop_table('training_sessions')
    op.drop_index('ix_promotions_starts_on', table_name='promotions')
    op.drop_index('ix_promotions_region_id', table_name='promotions')
    op.drop_table('promotions')
