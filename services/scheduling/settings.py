from pydantic import Field
from pydantic_settings import BaseSettings

from services.shared.settings import settings_config


class SchedulingSettings(BaseSettings):
    model_config = settings_config("SCHEDULING_")

    database_url: str = Field(
        "sqlite:///.data/scheduling.db",
        description="SQLAlchemy URL of the scheduling store: a SQLite file by default, postgresql://… for real.",
    )
    host: str = Field("127.0.0.1", description="Address the HTTP API listens on.")
    port: int = Field(8006, description="Port the HTTP API listens on.")
    migrate_on_start: bool = Field(True, description="Bring the database schema up to date when the service starts.")
    max_body_bytes: int = Field(64 * 1024, ge=1024, description="Largest request body accepted (413 above it).")
    max_shift_hours: int = Field(16, ge=1, le=24, description="The longest shift that can be scheduled.")
    relay_enabled: bool = Field(True, description="Run the outbox relay inside the service.")
    relay_poll_ms: int = Field(200, ge=10, description="How often the relay looks for events written by other processes.")
    relay_batch_size: int = Field(500, ge=1, description="Most events the relay publishes in one batch.")
    relay_lease_s: float = Field(15.0, gt=0, description="How long a relay's claim lasts without renewal.")
    idempotency_keep_hours: int = Field(
        24, ge=1,
        description="How long the first response to a POST with an Idempotency-Key is kept and replayed to retries; "
        "after that a retry with the key is a new request.",
    )
    outbox_keep_days: int = Field(
        7, ge=1,
        description="How long an outbox event is kept after the relay published it; an unpublished one is kept "
        "whatever its age.",
    )
    retention_interval_s: int = Field(
        3600, ge=1, description="How often one replica deletes expired idempotency keys and published outbox events."
    )
    retention_batch_size: int = Field(
        1000, ge=1, description="Most rows of each table the retention pass deletes in one transaction."
    )
