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
