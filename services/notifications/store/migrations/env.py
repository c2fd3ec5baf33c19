"""Alembic environment of the delivery store."""

from services.notifications.store.models import Base
from services.shared.migrate import run_migrations

MIGRATION_LOCK = 0x6E6F_7469_6679  # a constant of our own for pg_advisory_xact_lock, not another service's

run_migrations(Base.metadata, MIGRATION_LOCK)
