"""retention: idempotency keys found by age, and the retention pass's lease

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_keys_created_at'), ['created_at'], unique=False)
    op.bulk_insert(sa.table('leases', sa.column('name', sa.String)), [{'name': 'retention'}])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM leases WHERE name = 'retention'"))
    with op.batch_alter_table('idempotency_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_keys_created_at'))
