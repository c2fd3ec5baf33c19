from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AnalyticsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ANALYTICS_", extra="ignore")

    data_dir: Path = Field(Path(".data/analytics"), description="Where the worker keeps its RocksDB tables.")
    host: str = Field("127.0.0.1", description="Address the worker's /metrics listens on.")
    port: int = Field(8003, description="Port the worker's /metrics listens on (ops and service tokens only).")
    instance_id: str | None = Field(
        None,
        description="A stable name for this worker replica (Kafka static membership: a restarted worker gets its "
        "partitions back at once).",
    )
