"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-30 09:27:45.578139
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('idempotency_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('principal', sa.String(length=63), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('body', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('principal', 'key')
    )
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_created_at'), ['created_at'], unique=False)

    op.create_table('leases',
    sa.Column('name', sa.String(length=63), nullable=False),
    sa.Column('holder', sa.String(length=100), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    # the rows the shared outbox relay and retention pass take their turns on
    op.bulk_insert(sa.table('leases', sa.column('name', sa.String)), [{'name': 'outbox-relay'}, {'name': 'retention'}])
    op.create_table('outbox',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('topic', sa.String(length=100), nullable=False),
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('event_id')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_published_at'), ['published_at'], unique=False)

    op.create_table('regions',
    sa.Column('id', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('sites',
    sa.Column('id', sa.String(length=63), nullable=False),
    sa.Column('region_id', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('opening_hours', sa.JSON(), nullable=False),
    sa.Column('exceptions', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sites_region_id'), ['region_id'], unique=False)

    op.create_table('published_weeks',
    sa.Column('site_id', sa.String(length=63), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('published_by', sa.String(length=63), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ),
    sa.PrimaryKeyConstraint('site_id', 'week_start')
    )
    op.create_table('staff',
    sa.Column('id', sa.String(length=63), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('home_site_id', sa.String(length=63), nullable=False),
    sa.Column('region_id', sa.String(length=63), nullable=False),
    sa.Column('skills', sa.JSON(), nullable=False),
    sa.Column('hire_date', sa.Date(), nullable=False),
    sa.Column('contracted_hours', sa.Integer(), nullable=False),
    sa.Column('max_hours', sa.Integer(), nullable=False),
    sa.Column('availability', sa.JSON(), nullable=False),
    sa.Column('leave', sa.JSON(), nullable=False),
    sa.Column('work_email', sa.String(length=320), nullable=True),
    sa.Column('work_phone', sa.String(length=40), nullable=True),
    sa.Column('webhook_url', sa.String(length=2000), nullable=True),
    sa.Column('contact_erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['home_site_id'], ['sites.id'], ),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_home_site_id'), ['home_site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_region_id'), ['region_id'], unique=False)

    op.create_table('shifts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('site_id', sa.String(length=63), nullable=False),
    sa.Column('region_id', sa.String(length=63), nullable=False),
    sa.Column('staff_id', sa.String(length=63), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.String(length=63), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.create_index('ix_shifts_region_role', ['region_id', 'role', 'starts_at'], unique=False)
        batch_op.create_index('ix_shifts_site_time', ['site_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_shifts_site_week', ['site_id', 'week_start'], unique=False)
        batch_op.create_index('ix_shifts_staff_time', ['staff_id', 'starts_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('shifts', schema=None) as batch_op:
        batch_op.drop_index('ix_shifts_staff_time')
        batch_op.drop_index('ix_shifts_site_week')
        batch_op.drop_index('ix_shifts_site_time')
        batch_op.drop_index('ix_shifts_region_role')

    op.drop_table('shifts')
    with op.batch_alter_table('staff', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_region_id'))
        batch_op.drop_index(batch_op.f('ix_staff_home_site_id'))

    op.drop_table('staff')
    op.drop_table('published_weeks')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sites_region_id'))

    op.drop_table('sites')
    op.drop_table('regions')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_published_at'))

    op.drop_table('outbox')
    op.drop_table('leases')
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_created_at'))

    op.drop_table('idempotency_keys')
