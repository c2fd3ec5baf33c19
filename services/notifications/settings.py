from pydantic import Field, SecretStr

from services.shared.settings import DatabaseServiceSettings, settings_config

# Known to everyone who reads this file: fine on a laptop, refused in production.
DEVELOPMENT_LINK_KEY = "development-only-link-key-do-not-use-in-production"


class NotificationsSettings(DatabaseServiceSettings):
    model_config = settings_config("NOTIFICATIONS_")

    database_url: str = Field(
        "sqlite:///.data/notifications.db",
        description="SQLAlchemy URL of the delivery store: a SQLite file by default, postgresql://… for real.",
    )
    port: int = Field(8009, description="Port the HTTP API (acknowledge links, health, metrics) listens on.")
    public_url: str = Field(
        "http://127.0.0.1:8009", description="The address of this API as the recipients' browsers reach it, for links."
    )
    scheduling_url: str = Field("http://127.0.0.1:8006", description="The scheduling API: staff directory and on-duty roster.")
    complaints_url: str = Field("http://127.0.0.1:8001", description="The complaints API, which acknowledgements go to.")
    http_timeout_s: float = Field(5.0, gt=0, description="How long a call to the scheduling or complaints API may take.")
    smtp_host: str = Field("127.0.0.1", description="The SMTP relay e-mail is delivered to.")
    smtp_port: int = Field(8025, ge=1, le=65535, description="Its port.")
    smtp_starttls: bool = Field(False, description="Upgrade the SMTP connection with STARTTLS (a real relay).")
    smtp_username: str | None = Field(None, description="SMTP user, when the relay wants one.")
    smtp_password: SecretStr | None = Field(None, description="That user's password.")
    smtp_timeout_s: float = Field(10.0, gt=0, description="How long one SMTP delivery may take.")
    sender: str = Field("notifications@retail-care.invalid", description="The From address of the messages.")
    link_signing_key: SecretStr = Field(
        SecretStr(DEVELOPMENT_LINK_KEY), description="HMAC-SHA256 key that signs acknowledge links; production needs its own."
    )
    link_ttl_minutes: int = Field(120, ge=1, le=7 * 24 * 60, description="How long an acknowledge link works.")
    retry_base_s: float = Field(
        2.0, gt=0, description="Wait after a delivery's first failed attempt; it doubles with each attempt (with jitter)."
    )
    retry_cap_s: float = Field(300.0, gt=0, description="The longest wait between two attempts of a delivery.")
    max_attempts: int = Field(
        12, ge=1, le=1000,
        description="Attempts before a delivery is undeliverable: it then goes to escalations.dlq and is counted.",
    )
    claim_s: float = Field(
        60.0, gt=0,
        description="How long a sender's claim on a delivery lasts: a sender that died mid-delivery has its deliveries "
        "tried again after it. Keep it longer than smtp_timeout_s plus two http_timeout_s.",
    )
    send_poll_ms: int = Field(200, ge=10, description="How often the sender looks for deliveries that are due.")
    send_batch_size: int = Field(20, ge=1, description="Most deliveries one sender works on at a time.")
    deliveries_keep_days: int = Field(
        100, ge=1,
        description="How long a delivery is remembered, so that a replayed event sends nothing; keep it longer than "
        "the retention of the escalations topic (90 days).",
    )
