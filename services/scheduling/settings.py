from pydantic import Field

from services.shared.events.fields import MAX_ITEMS
from services.shared.settings import DatabaseServiceSettings, settings_config


class SchedulingSettings(DatabaseServiceSettings):
    model_config = settings_config("SCHEDULING_")

    database_url: str = Field(
        "sqlite:///.data/scheduling.db",
        description="SQLAlchemy URL of the scheduling store: a SQLite file by default, postgresql://… for real.",
    )
    port: int = Field(8006, description="Port the HTTP API listens on.")
    max_shift_hours: int = Field(16, ge=1, le=24, description="The longest shift that can be scheduled.")
    roster_max_shifts: int = Field(
        MAX_ITEMS, ge=1, le=MAX_ITEMS,
        description="Most shifts one site's roster event lists (the earliest that have not ended). A site with more "
        "has its roster published again at each roster refresh, as its earliest shifts end.",
    )
    roster_refresh_minutes: int = Field(
        60, ge=1, le=24 * 60,
        description="How often one replica publishes again the rosters that were cut at roster_max_shifts.",
    )
    worker_port: int = Field(8007, description="Port the scheduling worker's health, readiness and metrics listen on.")
    processed_events_keep_days: int = Field(
        100, ge=1,
        description="How long the worker remembers an event it applied, so that a replay changes nothing; keep it "
        "longer than the retention of the topics it reads (90 days).",
    )
