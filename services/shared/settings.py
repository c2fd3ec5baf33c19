"""Settings every service shares, read from RETAIL_* environment variables.

Each service adds its own settings class with its own prefix and holds one of these.
`retail generate` writes every variable with its default and description to docs/configuration.md.
"""

from enum import StrEnum
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.shared.principal import Role

# Known to everyone who reads this file: fine on a laptop, refused in production.
DEVELOPMENT_SIGNING_KEY = "development-only-signing-key-do-not-use-in-production"
# A production key is random: long, of many characters, and no word someone typed in as a stand-in.
MIN_KEY_BYTES, MIN_KEY_CHARACTERS = 32, 12
PLACEHOLDERS = ("changeme", "change-me", "change_me", "secret", "password", "example", "placeholder", "development")


class Environment(StrEnum):
    development = "development"
    production = "production"


class ProviderAlgorithm(StrEnum):
    """The signatures accepted from an identity provider: public keys only, never a shared secret."""

    RS256 = "RS256"
    ES256 = "ES256"


class KafkaSecurityProtocol(StrEnum):
    PLAINTEXT = "PLAINTEXT"
    SASL_PLAINTEXT = "SASL_PLAINTEXT"
    SASL_SSL = "SASL_SSL"


def settings_config(env_prefix: str) -> SettingsConfigDict:
    """How every settings class reads its environment variables. A rejected value (a key, a
    password) is never shown in the start-up error."""
    return SettingsConfigDict(env_prefix=env_prefix, extra="ignore", hide_input_in_errors=True)


class PlatformSettings(BaseSettings):
    model_config = settings_config("RETAIL_")

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
    kafka_session_timeout_s: float = Field(
        60.0, ge=6, le=1800, description="How long a stream worker replica may go unheard before the broker gives its "
        "partitions to the other replicas. A replica started again under its instance id within it takes them back "
        "without a rebalance; one that is gone for good holds them this long.",
    )
    table_write_buffer_mib: int = Field(
        2, ge=1, description="A stream worker's RocksDB write buffer (memtable) per table partition, of which it holds "
        "two at most: more restores a table with fewer flushes, and costs that much memory per partition.",
    )
    table_block_cache_mib: int = Field(
        1, ge=1, description="A stream worker's RocksDB block cache per table partition: more keeps more of a table's "
        "blocks in memory rather than re-read from disk (the operating system's page cache).",
    )
    kafka_security_protocol: KafkaSecurityProtocol = Field(
        KafkaSecurityProtocol.PLAINTEXT,
        description="How every Kafka client of the service connects: PLAINTEXT (a local broker), SASL_PLAINTEXT or "
        "SASL_SSL (the service's own user, SCRAM-SHA-512; SASL_SSL also checks the brokers' certificates).",
    )
    kafka_sasl_username: str | None = Field(None, description="The service's own Kafka user, for SASL.")
    kafka_sasl_password: SecretStr | None = Field(None, description="The password of that Kafka user, for SASL.")
    kafka_ssl_ca_file: Path | None = Field(
        None, description="PEM file of the CA that signed the brokers' certificates (SASL_SSL); unset: the system's CAs."
    )
    auth_signing_key: SecretStr = Field(
        SecretStr(DEVELOPMENT_SIGNING_KEY), description="HMAC key (HS256) that signs and verifies bearer tokens."
    )
    auth_issuer: str = Field("retail-care", description="The `iss` claim tokens must carry.")
    auth_audience: str = Field("retail-care", description="The `aud` claim tokens must carry.")
    auth_leeway_s: int = Field(30, ge=0, description="Clock skew allowed when checking a token's expiry.")
    oidc_issuer: str | None = Field(
        None,
        description="The OpenID Connect identity provider people sign in with: its issuer URL, the `iss` of its tokens. "
        "Unset: no provider, and only tokens signed with RETAIL_AUTH_SIGNING_KEY are known (which production accepts "
        "only for the platform's own services).",
    )
    oidc_audience: str | None = Field(
        None, description="The `aud` the provider's tokens must carry (the API or client id registered with it); "
        "required with RETAIL_OIDC_ISSUER."
    )
    oidc_jwks_url: str | None = Field(
        None, description="Where the provider publishes its signing keys (JWKS); unset: the `jwks_uri` of the "
        "issuer's /.well-known/openid-configuration."
    )
    oidc_algorithms: list[ProviderAlgorithm] = Field(
        ["RS256"], min_length=1, validate_default=True,
        description='The signatures accepted from the provider, as JSON: ["RS256"], ["ES256"] or both.',
    )
    oidc_subject_claim: str = Field(
        "sub", min_length=1, description="The claim holding the person's staff id (lowercase letters, digits, hyphens)."
    )
    oidc_role_claim: str = Field(
        "retail_role", min_length=1,
        description="The claim holding the person's role: one value or a list (such as groups); a dotted name "
        "(realm_access.roles) reaches into an object.",
    )
    oidc_region_claim: str = Field(
        "retail_region", min_length=1, description="The claim holding the region id of store and region roles."
    )
    oidc_site_claim: str = Field("retail_site", min_length=1, description="The claim holding the store id of store roles.")
    oidc_role_map: dict[str, Role] = Field(
        {},
        description='JSON from the provider\'s values of the role claim to our roles, such as {"retail-store-managers": '
        '"store_manager"}; values it does not name are ignored. Empty: the claim holds our role names.',
    )
    oidc_jwks_ttl_s: int = Field(3600, ge=1, description="How long the provider's keys are used before they are fetched again.")
    oidc_jwks_refresh_min_s: int = Field(
        60, ge=0,
        description="Fewest seconds between two fetches of the provider's keys. A token naming a key we do not hold "
        "(the provider rotated its keys) fetches them again, but no oftener, so tokens with made-up keys cannot "
        "flood the provider.",
    )
    oidc_timeout_s: float = Field(5.0, gt=0, description="How long a fetch from the provider may take.")
    oidc_leeway_s: int = Field(30, ge=0, description="Clock skew allowed when checking a provider's token's expiry.")

    @model_validator(mode="after")
    def _sasl_needs_a_user(self) -> "PlatformSettings":
        if self.kafka_security_protocol is not KafkaSecurityProtocol.PLAINTEXT and not (
            self.kafka_sasl_username and self.kafka_sasl_password
        ):
            raise ValueError(f"RETAIL_KAFKA_SECURITY_PROTOCOL={self.kafka_security_protocol} needs "
                             "RETAIL_KAFKA_SASL_USERNAME and RETAIL_KAFKA_SASL_PASSWORD")
        return self

    @model_validator(mode="after")
    def _a_provider_is_configured_whole(self) -> "PlatformSettings":
        if self.oidc_issuer is None:
            if self.oidc_jwks_url is not None or self.oidc_audience is not None:
                raise ValueError("RETAIL_OIDC_JWKS_URL and RETAIL_OIDC_AUDIENCE need RETAIL_OIDC_ISSUER")
            return self
        if not self.oidc_audience:
            raise ValueError("RETAIL_OIDC_ISSUER needs RETAIL_OIDC_AUDIENCE, the `aud` its tokens carry for us")
        for name, url in (("RETAIL_OIDC_ISSUER", self.oidc_issuer), ("RETAIL_OIDC_JWKS_URL", self.oidc_jwks_url)):
            if url is not None and not _trusted_url(url, self.env):
                raise ValueError(f"{name} must be an https URL (http only on this machine, or in development)")
        return self

    @model_validator(mode="after")
    def _production_needs_a_real_key(self) -> "PlatformSettings":
        if self.env is Environment.production:
            check_production_key("RETAIL_AUTH_SIGNING_KEY", self.auth_signing_key, DEVELOPMENT_SIGNING_KEY)
        return self


def _trusted_url(url: str, env: Environment) -> bool:
    """Whether keys fetched from `url` can be trusted: over TLS, or from this machine, or anywhere in development."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if env is Environment.development or parts.hostname == "localhost":
        return True
    try:
        return ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def check_production_key(name: str, key: SecretStr, development_key: str) -> None:
    """Refuses a key that anyone could know or guess: the development key, a short one, one of few
    distinct characters, or one holding a placeholder word. The message never shows the key."""
    value = key.get_secret_value()
    if value == development_key:
        raise ValueError(f"{name} is the development key; production needs its own")
    if len(value.encode()) < MIN_KEY_BYTES:
        raise ValueError(f"{name} must be at least {MIN_KEY_BYTES} bytes in production")
    if len(set(value)) < MIN_KEY_CHARACTERS:
        raise ValueError(f"{name} must have at least {MIN_KEY_CHARACTERS} distinct characters in production; "
                         "make one with `openssl rand -base64 48`")
    if any(word in value.lower() for word in PLACEHOLDERS):
        raise ValueError(f"{name} looks like a placeholder; make a random one with `openssl rand -base64 48`")


class DatabaseServiceSettings(BaseSettings):
    """What every service with a database (its store, outbox relay and retention) is configured by;
    each service's settings add their own prefix, database URL and port."""

    database_url: str
    host: str = Field("127.0.0.1", description="Address the HTTP API listens on.")
    port: int
    migrate_on_start: bool = Field(True, description="Bring the database schema up to date when the service starts.")
    max_body_bytes: int = Field(64 * 1024, ge=1024, description="Largest request body accepted (413 above it).")
    relay_enabled: bool = Field(True, description="Run the outbox relay inside the service.")
    relay_poll_ms: int = Field(200, ge=10, description="How often the relay looks for events written by other processes.")
    relay_batch_size: int = Field(500, ge=1, description="Most events the relay publishes in one batch.")
    relay_lease_s: float = Field(15.0, gt=0, description="How long a relay's claim lasts without renewal.")
    idempotency_keep_hours: int = Field(
        24, ge=1,
        description="How long the first response to a POST with an Idempotency-Key is kept and replayed to "
        "retries. After that (at the next retention pass) the key is forgotten: a retry with it is a new request "
        "and creates anew.",
    )
    outbox_keep_days: int = Field(
        7, ge=1,
        description="How long an outbox event is kept after the relay published it; an unpublished one is kept "
        "whatever its age.",
    )
    retention_interval_s: int = Field(
        3600, ge=1, description="How often one replica deletes expired idempotency keys and published outbox events."
    )
    retention_batch_size: int = Field(
        1000, ge=1, description="Most rows of each table the retention pass deletes in one transaction."
    )
