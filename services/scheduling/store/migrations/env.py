"""Alembic environment of the scheduling store."""

from services.scheduling.store.models import Base
import services.scheduling.store.demand  # noqa: F401
import services.scheduling.store.training  # noqa: F401
import services.scheduling.store.development  # noqa: F401
import services.scheduling.store.complaints  # noqa: F401
from services.shared.migrate import run_migrations

MIGRATION_LOCK = 0x7265_7461_6973  # a constant of our own for pg_advisory_xact_lock, not complaints' one

run_migrations(Base.metadata, MIGRATION_LOCK)
