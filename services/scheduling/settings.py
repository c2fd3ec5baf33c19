from pydantic import Field

from services.shared.settings import DatabaseServiceSettings, settings_config


class SchedulingSettings(DatabaseServiceSettings):
    model_config = settings_config("SCHEDULING_")

    database_url: str = Field(
        "sqlite:///.data/scheduling.db",
        description="SQLAlchemy URL of the scheduling store: a SQLite file by default, postgresql://… for real.",
    )
    port: int = Field(8006, description="Port the HTTP API listens on.")
    max_shift_hours: int = Field(16, ge=1, le=24, description="The longest shift that can be scheduled.")
    worker_port: int = Field(8007, description="Port the scheduling worker's health, readiness and metrics listen on.")
    processed_events_keep_days: int = Field(
        100, ge=1,
        description="How long the worker remembers an event it applied, so that a replay changes nothing; keep it "
        "longer than the retention of the topics it reads (90 days).",
    )
