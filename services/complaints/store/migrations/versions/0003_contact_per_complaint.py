"""contact per complaint: the contact a complaint was filed with is its own, customers keep only their
pseudonym; and the record of who read contact data

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

from services.shared.db import UtcDateTime

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

CONTACT = ('name', 'email', 'phone')


def upgrade() -> None:
    op.create_table('contact_reads',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('complaint_id', sa.Uuid(), nullable=False),
    sa.Column('staff_id', sa.String(length=63), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('endpoint', sa.String(length=100), nullable=False),
    sa.Column('read_at', UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaints.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('contact_reads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_reads_complaint_id'), ['complaint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_reads_read_at'), ['read_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_reads_staff_id'), ['staff_id'], unique=False)

    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('contact_email', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('contact_phone', sa.String(length=40), nullable=True))
    # What a customer row holds now is the best there is for each of their complaints.
    op.execute(sa.text('UPDATE complaints SET ' + ', '.join(
        f'contact_{field} = (SELECT {field} FROM customers WHERE customers.id = complaints.customer_id)'
        for field in CONTACT
    )))
    # Not in a batch: on SQLite that copies the table and drops the old one, which the complaints'
    # foreign keys refuse; SQLite (3.35 and later) drops a plain column in place.
    for field in CONTACT:
        op.drop_column('customers', field)


def downgrade() -> None:
    with op.batch_alter_table('customers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('email', sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column('phone', sa.String(length=40), nullable=True))
    op.execute(sa.text('UPDATE customers SET ' + ', '.join(
        f'{field} = (SELECT contact_{field} FROM complaints WHERE complaints.customer_id = customers.id '
        'ORDER BY created_at DESC LIMIT 1)'
        for field in CONTACT
    )))
    for field in CONTACT:
        op.drop_column('complaints', f'contact_{field}')

    with op.batch_alter_table('contact_reads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contact_reads_staff_id'))
        batch_op.drop_index(batch_op.f('ix_contact_reads_read_at'))
        batch_op.drop_index(batch_op.f('ix_contact_reads_complaint_id'))

    op.drop_table('contact_reads')
