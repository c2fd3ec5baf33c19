from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_RULES = Path(__file__).parent / "rules.toml"


class EscalationSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ESCALATION_", extra="ignore")

    rules_file: Path = Field(DEFAULT_RULES, description="Routing rules (TOML); the service refuses to start if invalid.")
    data_dir: Path = Field(Path(".data/escalation"), description="Where the worker keeps its RocksDB tables.")
