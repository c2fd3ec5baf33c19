"""Settings every service shares, read from RETAIL_* environment variables.

Each service adds its own settings class with its own prefix and holds one of these.
`retail generate` writes every variable with its default and description to docs/configuration.md.
"""

from enum import StrEnum

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Known to everyone who reads this file: fine on a laptop, refused in production.
DEVELOPMENT_SIGNING_KEY = "development-only-signing-key-do-not-use-in-production"


class Environment(StrEnum):
    development = "development"
    production = "production"


class PlatformSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RETAIL_", extra="ignore")

    env: Environment = Field(
        Environment.development, description="development or production; production refuses the development signing key."
    )
    log_level: str = Field("INFO", description="Log level of the JSON logs on standard output.")
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", description="Comma-separated Kafka brokers.")
    kafka_replication_factor: int = Field(
        1, ge=1, description="Replication factor of the topics we create: 1 on one local broker, 3 in production."
    )
    kafka_send_timeout_s: float = Field(
        10.0, gt=0, description="How long a publish may wait for the brokers before its outcome counts as unknown."
    )
    kafka_linger_ms: int = Field(5, ge=0, description="How long the producer waits to fill a batch.")
    kafka_max_batch_bytes: int = Field(256 * 1024, ge=1024, description="The producer's largest batch per partition.")
    auth_signing_key: SecretStr = Field(
        SecretStr(DEVELOPMENT_SIGNING_KEY), description="HMAC key (HS256) that signs and verifies bearer tokens."
    )
    auth_issuer: str = Field("retail-care", description="The `iss` claim tokens must carry.")
    auth_audience: str = Field("retail-care", description="The `aud` claim tokens must carry.")
    auth_leeway_s: int = Field(30, ge=0, description="Clock skew allowed when checking a token's expiry.")

    @model_validator(mode="after")
    def _production_needs_a_real_key(self) -> "PlatformSettings":
        if self.env is Environment.production:
            key = self.auth_signing_key.get_secret_value()
            if key == DEVELOPMENT_SIGNING_KEY:
                raise ValueError("RETAIL_AUTH_SIGNING_KEY is the development key; production needs its own")
            if len(key) < 32:
                raise ValueError("RETAIL_AUTH_SIGNING_KEY must be at least 32 characters in production")
        return self
