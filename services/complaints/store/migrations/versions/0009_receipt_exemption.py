"""a return policy's receipt exemption: the amount under which a return needs no receipt even where one
is required

Versions kept so far exempt no return (0).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-11 12:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('return_policy_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_exempt_below_minor', sa.BigInteger(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('return_policy_versions', schema=None) as batch_op:
        batch_op.drop_column('receipt_exempt_below_minor')
