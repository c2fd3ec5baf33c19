from pydantic import Field, SecretStr

from services.shared.delivery.channels import ChannelSettings
from services.shared.settings import DatabaseServiceSettings, settings_config

DEVELOPMENT_CUSTOMER_REF_KEY = "development-only-customer-ref-key"


class ComplaintsSettings(DatabaseServiceSettings, ChannelSettings):
    model_config = settings_config("COMPLAINTS_")

    database_url: str = Field(
        "sqlite:///.data/complaints.db",
        description="SQLAlchemy URL of the complaints store: a SQLite file by default, postgresql://… for real.",
    )
    port: int = Field(8001, description="Port the HTTP API listens on.")
    worker_port: int = Field(8008, description="Port the complaints worker's health, readiness and metrics listen on.")
    processed_events_keep_days: int = Field(
        100, ge=1,
        description="How long the worker remembers an escalation event it applied, so that a replay changes nothing; "
        "keep it longer than the retention of the escalations topic (90 days).",
    )
    customer_ref_key: SecretStr = Field(
        SecretStr(DEVELOPMENT_CUSTOMER_REF_KEY),
        description="HMAC key that turns contact data into the pseudonymous customer_ref; never change it in place.",
    )
    csat_survey_days: int = Field(14, ge=1, description="How long a CSAT survey link stays answerable.")
    survey_url: str = Field(
        "http://127.0.0.1:8010/survey",
        description="The public survey page the customer opens from the link sent on resolution: the link is this "
        "URL, a slash and the survey's one-time token. The web app serves the page at /survey (WEBAPP_PORT, 8010, in "
        "a local run); it answers with POST /v1/csat/<token>.",
    )
    survey_delivery_enabled: bool = Field(
        True,
        description="Send the CSAT survey link to the customer (e-mail, else SMS) from this process; off, the surveys "
        "wait until a process that sends runs (keep it off where customers must not be contacted, such as a copy "
        "of production data).",
    )
    survey_deliveries_keep_days: int = Field(
        90, ge=1,
        description="How long the record of a survey link's delivery (its outcome, no contact data) is kept.",
    )
    sender: str = Field("customer-care@retail-care.invalid", description="The From address of e-mail to customers.")
    page_size_max: int = Field(200, ge=1, description="Largest page a list request may ask for.")
    contact_reads_keep_days: int = Field(
        365, ge=1,
        description="How long the record of each read of a customer's contact (who, when, which complaint) is kept "
        "for senior managers to query: a year covers a yearly audit and a customer asking who saw their data.",
    )
    retention_interval_s: int = Field(
        3600, ge=1,
        description="How often one replica deletes expired idempotency keys, published outbox events, contact "
        "reads and survey deliveries.",
    )
