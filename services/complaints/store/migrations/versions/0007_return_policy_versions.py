"""return policies in versions with their provenance (an admin's change or an accepted policy
proposal), regions' own policies, and the version each return was checked against

Each policy kept so far becomes version 1 of its scope, set by an admin before versions were kept
(no `changed_by`); returns checked before keep no version.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09 12:00:00.000000
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from services.shared.db import UtcDateTime

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

CHAIN_SCOPE = "*"
RULES = ('return_window_days', 'receipt_required', 'approval_amount_minor', 'non_returnable_categories',
         'allowed_tenders', 'currency')


def _rules_columns() -> list[sa.Column]:
    return [
        sa.Column('return_window_days', sa.Integer(), nullable=False),
        sa.Column('receipt_required', sa.Boolean(), nullable=False),
        sa.Column('approval_amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('non_returnable_categories', sa.JSON(), nullable=False),
        sa.Column('allowed_tenders', sa.JSON(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
    ]


def upgrade() -> None:
    versions = op.create_table('return_policy_versions',
    sa.Column('scope', sa.String(length=10), nullable=False),
    sa.Column('scope_id', sa.String(length=63), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    *_rules_columns(),
    sa.Column('created_at', UtcDateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('changed_by', sa.String(length=63), nullable=True),
    sa.Column('proposal_id', sa.Uuid(), nullable=True),
    sa.Column('problem_id', sa.Uuid(), nullable=True),
    sa.Column('proposed_by', sa.String(length=63), nullable=True),
    sa.Column('decided_at', UtcDateTime(timezone=True), nullable=True),
    sa.Column('rationale', sa.Text(), nullable=True),
    sa.Column('change', sa.JSON(), nullable=True),
    sa.PrimaryKeyConstraint('scope', 'scope_id', 'version')
    )
    with op.batch_alter_table('return_policy_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_policy_versions_proposal_id'), ['proposal_id'], unique=False)

    kept = sa.table('return_policies', sa.column('scope', sa.String), *_rules_columns())
    now = datetime.now(UTC)
    rows = op.get_bind().execute(sa.select(kept)).mappings().all()
    if rows:
        op.bulk_insert(versions, [
            {
                **{name: row[name] for name in RULES},
                'scope': 'chain' if row['scope'] == CHAIN_SCOPE else 'store', 'scope_id': row['scope'], 'version': 1,
                'created_at': now, 'source': 'admin',
            }
            for row in rows
        ])
    op.drop_table('return_policies')

    with op.batch_alter_table('return_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('policy_scope', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('policy_scope_id', sa.String(length=63), nullable=True))
        batch_op.add_column(sa.Column('policy_version', sa.Integer(), nullable=True))


def downgrade() -> None:
    """Each store's and the chain's newest version becomes its policy again; regions' own policies
    and the history are lost."""
    with op.batch_alter_table('return_requests', schema=None) as batch_op:
        batch_op.drop_column('policy_version')
        batch_op.drop_column('policy_scope_id')
        batch_op.drop_column('policy_scope')

    policies = op.create_table('return_policies',
    sa.Column('scope', sa.String(length=63), nullable=False),
    *_rules_columns(),
    sa.PrimaryKeyConstraint('scope')
    )
    versions = sa.table('return_policy_versions', sa.column('scope', sa.String), sa.column('scope_id', sa.String),
                        sa.column('version', sa.Integer), *_rules_columns())
    newest = (
        sa.select(versions.c.scope, versions.c.scope_id, sa.func.max(versions.c.version).label('version'))
        .where(versions.c.scope.in_(['chain', 'store'])).group_by(versions.c.scope, versions.c.scope_id).subquery()
    )
    query = sa.select(versions).join(newest, sa.and_(
        versions.c.scope == newest.c.scope, versions.c.scope_id == newest.c.scope_id,
        versions.c.version == newest.c.version,
    ))
    rows = op.get_bind().execute(query).mappings().all()
    if rows:
        op.bulk_insert(policies, [{'scope': row['scope_id'], **{name: row[name] for name in RULES}} for row in rows])
    with op.batch_alter_table('return_policy_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_policy_versions_proposal_id'))
    op.drop_table('return_policy_versions')
