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
