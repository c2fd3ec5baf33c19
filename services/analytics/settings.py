from datetime import timedelta
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings

from services.analytics.domain.signals import SignalRules
from services.analytics.domain.windows import WindowRules
from services.shared.events.fields import TimeZone
from services.shared.settings import settings_config


class AnalyticsSettings(BaseSettings):
    model_config = settings_config("ANALYTICS_")

    data_dir: Path = Field(Path(".data/analytics"), description="Where the worker keeps its RocksDB tables.")
    host: str = Field("127.0.0.1", description="Address the worker's /metrics listens on.")
    port: int = Field(8003, description="Port the worker's /metrics listens on (ops and service tokens only).")
    instance_id: str | None = Field(
        None,
        description="A stable name for this worker replica (Kafka static membership: a restarted worker gets its "
        "partitions back at once).",
    )
    decoded_stores: int = Field(
        64, ge=1, description="Stores whose totals the worker keeps decoded between batches (about 1 MiB each, with a "
        "thousand open complaints); a store counted beyond them is read again from its table. Also the most stores "
        "whose totals a batch holds before writing them (a few hundred KB each): a batch of more is written in runs.",
    )
    signal_window_days: int = Field(7, ge=1, le=90, description="Days of returns a staff member's rates are taken over.")
    signal_min_requests: int = Field(5, ge=1, description="Fewest return requests in the window for a staff member's rates to be judged.")
    signal_min_peers: int = Field(3, ge=2, description="Fewest other staff members of the store to compare a rate with.")
    signal_z: float = Field(3.5, gt=0, description="Robust z-score (median/MAD against the peers) at which a rate is signalled.")

    timezone: TimeZone = Field("Europe/Helsinki", description="IANA time zone of the daily windows (a report's days are local days).")
    hour_windows_days: int = Field(14, ge=1, le=90, description="Days the hourly windows are kept for reports by the hour.")
    day_windows_days: int = Field(400, ge=1, le=3660, description="Days the daily windows are kept for reports by the day.")
    reports_host: str = Field("127.0.0.1", description="Address the reports API listens on.")
    reports_port: int = Field(8004, description="Port the reports API listens on.")

    @property
    def window_rules(self) -> WindowRules:
        return WindowRules(zone=self.timezone, hour_windows_kept=timedelta(days=self.hour_windows_days),
                           day_windows_kept=timedelta(days=self.day_windows_days))

    @property
    def signal_rules(self) -> SignalRules:
        return SignalRules(window_days=self.signal_window_days, min_requests=self.signal_min_requests,
                           min_peers=self.signal_min_peers, z=self.signal_z)
