from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings

from services.shared.settings import settings_config

DEFAULT_RULES = Path(__file__).parent / "rules.toml"


class EscalationSettings(BaseSettings):
    model_config = settings_config("ESCALATION_")

    rules_file: Path | None = Field(
        None,
        description="Routing rules (TOML); unset, the chain rules shipped in services/escalation/rules.toml. "
        "The service refuses to start if they are invalid.",
    )
    data_dir: Path = Field(Path(".data/escalation"), description="Where the worker keeps its RocksDB tables.")
    tick_seconds: float = Field(
        5.0, ge=0, description="How often the worker's clock ticks to check SLA deadlines; 0 stops it (the ticks then come from outside, as in tests)."
    )
    resolved_kept_days: float = Field(
        7.0, gt=0,
        description="How long the worker keeps a resolved (or closed) complaint's case: reopened within this many days, "
        "the complaint's SLA timers restart at its tier; reopened later, it is no longer escalated.",
    )
    instance_id: str | None = Field(
        None,
        description="A stable name for this worker replica (such as a StatefulSet pod's name): Kafka's static "
        "membership then hands a restarted worker its partitions back at once instead of after the session timeout.",
    )
    worker_host: str = Field("127.0.0.1", description="Address the worker's /healthz, /readyz and /metrics listen on.")
    worker_port: int = Field(8005, description="Port the worker's /healthz, /readyz and /metrics listen on (metrics for ops and service tokens).")
    host: str = Field("127.0.0.1", description="Address the boards API and dashboard listen on.")
    port: int = Field(8002, description="Port the boards API and dashboard listen on.")
    boards_database_url: str = Field(
        "sqlite:///.data/escalation/boards.db",
        description="SQLAlchemy URL of the boards API's read model of the worker's cases: a SQLite file by default, "
        "postgresql://… for real. Replicas may share one database or each have their own.",
    )
    boards_migrate_on_start: bool = Field(
        True, description="Bring the boards' database schema up to date when the boards API starts."
    )
    boards_batch_records: int = Field(
        5000, ge=1, description="Most records of the cases changelog the boards API applies in one transaction."
    )
    boards_list_limit: int = Field(
        200, ge=1,
        description="Most open complaints a board lists at once (the first in the order to work them; the summary counts "
        "them all); the rest are asked for page by page with the board's `next` cursor.",
    )
    boards_stream_interval_s: float = Field(
        1.0, ge=0, description="Least time between two boards a board stream sends: a busy region's changes go together."
    )
