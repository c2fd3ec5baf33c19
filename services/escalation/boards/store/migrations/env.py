"""Alembic environment of the boards' read model."""

from services.escalation.boards.store.models import Base
from services.shared.migrate import run_migrations

MIGRATION_LOCK = 0x626F_6172_6473  # a constant of our own for pg_advisory_xact_lock, not another service's

run_migrations(Base.metadata, MIGRATION_LOCK)
