"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 11:06:11.619058
"""

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('customers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_ref', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('customer_ref')
    )
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
    op.create_table('leases',
    sa.Column('name', sa.String(length=63), nullable=False),
    sa.Column('holder', sa.String(length=100), nullable=True),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )
    op.bulk_insert(sa.table('leases', sa.column('name', sa.String)), [{'name': 'outbox-relay'}])
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
    op.create_table('return_policies',
    sa.Column('scope', sa.String(length=63), nullable=False),
    sa.Column('return_window_days', sa.Integer(), nullable=False),
    sa.Column('receipt_required', sa.Boolean(), nullable=False),
    sa.Column('approval_amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('non_returnable_categories', sa.JSON(), nullable=False),
    sa.Column('allowed_tenders', sa.JSON(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.PrimaryKeyConstraint('scope')
    )
    op.create_table('stores',
    sa.Column('id', sa.String(length=63), nullable=False),
    sa.Column('region_id', sa.String(length=63), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stores_region_id'), ['region_id'], unique=False)

    op.create_table('complaints',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('store_id', sa.String(length=63), nullable=False),
    sa.Column('region_id', sa.String(length=63), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('severity', sa.String(length=20), nullable=False),
    sa.Column('mood', sa.String(length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('receipt_ref', sa.String(length=64), nullable=True),
    sa.Column('product_category', sa.String(length=63), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('staff_involved', sa.String(length=63), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('filed_by', sa.String(length=63), nullable=False),
    sa.Column('assignee', sa.String(length=63), nullable=True),
    sa.Column('assignee_role', sa.String(length=30), nullable=True),
    sa.Column('reassigned', sa.Boolean(), nullable=False),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('resolution_technique', sa.String(length=30), nullable=True),
    sa.Column('resolution_outcome', sa.String(length=30), nullable=True),
    sa.Column('resolution_summary', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], ),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaints_assignee'), ['assignee'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_category'), ['category'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_complaints_store_id'), ['store_id'], unique=False)

    op.create_table('complaint_notes',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('author', sa.String(length=63), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('complaint_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_notes_complaint_id'), ['complaint_id'], unique=False)

    op.create_table('csat_surveys',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
    sa.PrimaryKeyConstraint('token_hash')
    )
    with op.batch_alter_table('csat_surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_csat_surveys_complaint_id'), ['complaint_id'], unique=False)

    op.create_table('return_requests',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('store_id', sa.String(length=63), nullable=False),
    sa.Column('region_id', sa.String(length=63), nullable=False),
    sa.Column('complaint_id', sa.Uuid(), nullable=True),
    sa.Column('customer_id', sa.Uuid(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('tender', sa.String(length=20), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('receipt_number', sa.String(length=64), nullable=True),
    sa.Column('no_receipt_reason', sa.String(length=30), nullable=True),
    sa.Column('product_category', sa.String(length=63), nullable=False),
    sa.Column('purchased_on', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('broken_rules', sa.JSON(), nullable=False),
    sa.Column('approver', sa.String(length=63), nullable=True),
    sa.Column('exception_reason', sa.Text(), nullable=True),
    sa.Column('requested_by', sa.String(length=63), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], ),
    sa.ForeignKeyConstraint(['region_id'], ['regions.id'], ),
    sa.ForeignKeyConstraint(['store_id'], ['stores.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('return_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_requests_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_return_requests_store_id'), ['store_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('return_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_requests_store_id'))
        batch_op.drop_index(batch_op.f('ix_return_requests_status'))

    op.drop_table('return_requests')
    with op.batch_alter_table('csat_surveys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_csat_surveys_complaint_id'))

    op.drop_table('csat_surveys')
    with op.batch_alter_table('complaint_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_notes_complaint_id'))

    op.drop_table('complaint_notes')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaints_store_id'))
        batch_op.drop_index(batch_op.f('ix_complaints_status'))
        batch_op.drop_index(batch_op.f('ix_complaints_region_id'))
        batch_op.drop_index(batch_op.f('ix_complaints_customer_id'))
        batch_op.drop_index(batch_op.f('ix_complaints_created_at'))
        batch_op.drop_index(batch_op.f('ix_complaints_category'))
        batch_op.drop_index(batch_op.f('ix_complaints_assignee'))

    op.drop_table('complaints')
    with op.batch_alter_table('stores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stores_region_id'))

    op.drop_table('stores')
    op.drop_table('return_policies')
    op.drop_table('regions')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_published_at'))

    op.drop_table('outbox')
    op.drop_table('leases')
    op.drop_table('idempotency_keys')
    op.drop_table('customers')
