from pydantic import Field, SecretStr

from services.shared.delivery.channels import ChannelSettings
from services.shared.settings import DatabaseServiceSettings, settings_config

# Known to everyone who reads this file: fine on a laptop, refused in production.
DEVELOPMENT_LINK_KEY = "development-only-link-key-do-not-use-in-production"


class NotificationsSettings(DatabaseServiceSettings, ChannelSettings):
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
    link_signing_key: SecretStr = Field(
        SecretStr(DEVELOPMENT_LINK_KEY), description="HMAC-SHA256 key that signs acknowledge links; production needs its own."
    )
    link_ttl_minutes: int = Field(120, ge=1, le=7 * 24 * 60, description="How long an acknowledge link works.")
    follow_up_minutes: int = Field(
        5, ge=1, le=24 * 60,
        description="A page nobody acknowledged is sent again after this long, and after as long again goes to the "
        "next tier's person on duty, and on up to the region's coordinator.",
    )
    time_zone: str = Field(
        "Europe/Helsinki", description="Quiet hours are in this time zone unless the person set their own."
    )
    deliveries_keep_days: int = Field(
        100, ge=1,
        description="How long a delivery is remembered, so that a replayed event sends nothing; keep it longer than "
        "the retention of the escalations topic (90 days).",
    )
