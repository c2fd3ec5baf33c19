from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from services.shared.settings import settings_config

# Known to everyone who reads this file: fine on a laptop, refused in production.
DEVELOPMENT_SESSION_KEY = "development-only-session-key-do-not-use-in-production"


class WebappSettings(BaseSettings):
    model_config = settings_config("WEBAPP_")

    host: str = Field("127.0.0.1", description="Interface the web app listens on.")
    port: int = Field(8010, description="Port the web app listens on.")
    complaints_url: str = Field("http://127.0.0.1:8001", description="The complaints API.")
    scheduling_url: str = Field("http://127.0.0.1:8006", description="The scheduling API (the people of the sign-in).")
    notifications_url: str = Field("http://127.0.0.1:8009", description="The notifications API (what reached whom).")
    http_timeout_s: float = Field(5.0, gt=0, description="How long a call to another service's API may take.")
    session_key: SecretStr = Field(
        SecretStr(DEVELOPMENT_SESSION_KEY),
        description="HMAC-SHA256 key that signs the session cookie and its forms' CSRF tokens; production needs its own.",
    )
    session_hours: int = Field(10, ge=1, le=24, description="How long a sign-in lasts: about a working day.")
    secure_cookies: bool = Field(
        False, description="Send the session cookie over HTTPS only (true behind TLS, as in production)."
    )
    development_sign_in: bool = Field(
        True, description="Offer the development sign-in, which picks a person of the staff directory; refused in production."
    )
    page_size: int = Field(50, ge=1, le=200, description="Complaints a list shows at once.")
