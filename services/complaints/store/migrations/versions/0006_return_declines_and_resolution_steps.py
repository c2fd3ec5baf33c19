"""return declines (a store manager's reason and its category) and a resolution's steps of the technique

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-08 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('return_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decline_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('decline_category', sa.String(length=30), nullable=True))
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('resolution_steps', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_column('resolution_steps')
    with op.batch_alter_table('return_requests', schema=None) as batch_op:
        batch_op.drop_column('decline_category')
        batch_op.drop_column('decline_reason')
