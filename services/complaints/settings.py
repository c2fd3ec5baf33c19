from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from services.shared.settings import settings_config

DEVELOPMENT_CUSTOMER_REF_KEY = "development-only-customer-ref-key"


class ComplaintsSettings(BaseSettings):
    model_config = settings_config("COMPLAINTS_")

    database_url: str = Field(
        "sqlite:///.data/complaints.db",
        description="SQLAlchemy URL of the complaints store: a SQLite file by default, postgresql://… for real.",
    )
    host: str = Field("127.0.0.1", description="Address the HTTP API listens on.")
    port: int = Field(8001, description="Port the HTTP API listens on.")
    migrate_on_start: bool = Field(True, description="Bring the database schema up to date when the service starts.")
    customer_ref_key: SecretStr = Field(
        SecretStr(DEVELOPMENT_CUSTOMER_REF_KEY),
        description="HMAC key that turns contact data into the pseudonymous customer_ref; never change it in place.",
    )
    csat_survey_days: int = Field(14, ge=1, description="How long a CSAT survey link stays answerable.")
    max_body_bytes: int = Field(64 * 1024, ge=1024, description="Largest request body accepted (413 above it).")
    page_size_max: int = Field(200, ge=1, description="Largest page a list request may ask for.")
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
    contact_reads_keep_days: int = Field(
        365, ge=1,
        description="How long the record of each read of a customer's contact (who, when, which complaint) is kept "
        "for senior managers to query: a year covers a yearly audit and a customer asking who saw their data.",
    )
    retention_interval_s: int = Field(
        3600, ge=1,
        description="How often one replica deletes expired idempotency keys, published outbox events and contact "
        "reads.",
    )
    retention_batch_size: int = Field(
        1000, ge=1, description="Most rows of each table the retention pass deletes in one transaction."
    )
