from pydantic import Field, model_validator

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
    training_window_days: int = Field(
        7, ge=1, le=28,
        description="The window training proposals count complaints in, in days of the site's local calendar, starting "
        "on Mondays (7: the site's week). One proposal per site, cause and window.",
    )
    training_rise_factor: float = Field(
        2.0, ge=1.0, le=100.0,
        description="Register training is proposed when a window's billing/register complaints at a site are more than "
        "this many times its usual count (the average of the training_baseline_windows windows before).",
    )
    training_min_complaints: int = Field(
        3, ge=1, le=10_000, description="Fewest billing/register complaints in a window for register training."
    )
    training_baseline_windows: int = Field(
        8, ge=1, le=52, description="How many windows before the counted one make a site's usual rate."
    )
    briefing_minutes: int = Field(30, ge=5, le=240, description="How long a promotion's briefing at a site lasts.")
    briefing_lookback_days: int = Field(
        7, ge=1, le=28,
        description="How many days before a promotion starts its briefing may be held, the last of them first.",
    )
    role_play_scenarios: int = Field(5, ge=1, le=20, description="How many scenarios a de-escalation role-play plays.")
    role_play_source_days: int = Field(
        365, ge=1, le=3650, description="How far back a role-play draws on the site's resolved complaints."
    )
    demand_weeks: int = Field(
        4, ge=1, le=52,
        description="A week's demand is the site's complaints and returns per hour of the week averaged over this many "
        "complete weeks before it (before the current week, for a week to come).",
    )
    demand_keep_weeks: int = Field(
        53, ge=2, le=520,
        description="How many weeks of each site's hourly counts are kept (at least demand_weeks + 1 are needed); "
        "older ones are deleted by the retention pass.",
    )
    demand_base_people: int = Field(2, ge=0, le=100, description="People every open hour needs before any load.")
    demand_events_per_person: float = Field(
        4.0, gt=0, le=1000,
        description="Complaints and returns an hour brings on average that call for one more person on duty: an hour "
        "averaging 8 gets two more people than the base.",
    )
    demand_busy_factor: float = Field(
        2.0, ge=1, le=100,
        description="An hour that calls for more people and whose load is at least this many times the site's usual "
        "(the average over the week's open hours) is busy: it also needs a de-escalation-trained person.",
    )
    solver_work_limit: float = Field(
        10.0, gt=0, le=1000,
        description="CP-SAT deterministic work units one draft of a week may use: the same week gets the same draft on "
        "any machine. A week whose first schedule (the cover plan and start) meets every rule is answered with at least "
        "that; one the search neither solves nor proves impossible within them is answered as such (422), not waited "
        "for. bench/scheduling.py drafts a 40-person store's week and a 200-person round-the-clock call centre's within 10.",
    )

    @model_validator(mode="after")
    def _demand_kept_long_enough(self) -> "SchedulingSettings":
        if self.demand_keep_weeks <= self.demand_weeks:
            raise ValueError(f"demand_keep_weeks ({self.demand_keep_weeks}) must be more than demand_weeks ({self.demand_weeks})")
        return self
