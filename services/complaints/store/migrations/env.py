"""Alembic environment of the complaints store."""

from services.complaints.store.models import Base
from services.shared.migrate import run_migrations

MIGRATION_LOCK = 0x7265_7461_696C  # a constant of our own for pg_advisory_xact_lock ("retail")

run_migrations(Base.metadata, MIGRATION_LOCK)
