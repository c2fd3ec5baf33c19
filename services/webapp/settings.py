from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator
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
    boards_url: str = Field(
        "http://127.0.0.1:8002", description="The escalation service's boards API (regions' boards, proposals)."
    )
    http_timeout_s: float = Field(5.0, gt=0, description="How long a call to another service's API may take.")
    board_stream_timeout_s: float = Field(
        60.0, gt=0, description="How long a region's live board, passed on to a coordinator's page, may stay silent before "
        "the page follows it again (the boards API sends it at least every 15 seconds).",
    )
    session_key: SecretStr = Field(
        SecretStr(DEVELOPMENT_SESSION_KEY),
        description="HMAC-SHA256 key that signs the session cookie and its forms' CSRF tokens; production needs its own.",
    )
    session_hours: int = Field(
        10, ge=1, le=24, description="How long a sign-in lasts at most: about a working day. The identity provider's "
        "refresh token renews the person's access token until then, not after; without one, the session ends with that token.",
    )
    secure_cookies: bool = Field(
        False, description="Send the session cookie over HTTPS only (true behind TLS, as in production)."
    )
    development_sign_in: bool = Field(
        True, description="Offer the development sign-in, which picks a person of the staff directory; refused in production."
    )
    page_size: int = Field(50, ge=1, le=200, description="Complaints a list shows at once.")
    oidc_client_id: str | None = Field(
        None, description="The app's client id at the identity provider of RETAIL_OIDC_ISSUER: set, people sign in there "
        "(authorization code with PKCE); unset, the app offers no such sign-in.",
    )
    oidc_client_secret: SecretStr | None = Field(
        None, description="The client's secret, for a confidential client (sent to the token endpoint with HTTP Basic); "
        "unset: a public client, which PKCE alone protects.",
    )
    oidc_redirect_url: str | None = Field(
        None, description="The public URL of the app's /signin/callback, as registered with the provider; required with "
        "WEBAPP_OIDC_CLIENT_ID.",
    )
    oidc_scopes: list[str] = Field(
        ["openid", "profile"], description='The scopes asked of the provider, as JSON; "openid" among them.'
    )
    oidc_authorize_params: dict[str, str] = Field(
        {}, description='Further parameters of the request that sends people to the provider, as JSON, such as '
        '{"audience": "retail-care-api"} where the provider issues an access token for the APIs only when asked (Auth0).',
    )
    oidc_provider_name: str | None = Field(
        None, description='The provider on the sign-in button, "Sign in with <name>"; unset: "with your work account".'
    )
    oidc_sign_in_minutes: int = Field(
        10, ge=1, le=60, description="How long a person may take at the provider's sign-in before it must start again."
    )
    oidc_refresh_skew_s: int = Field(
        30, ge=0, le=300, description="How long before the provider's access token expires the app refreshes it, so that "
        "it does not expire on the way to an API.",
    )

    @model_validator(mode="after")
    def _a_client_is_configured_whole(self) -> "WebappSettings":
        if self.oidc_client_id is None:
            return self
        if not self.oidc_redirect_url or urlsplit(self.oidc_redirect_url).path != "/signin/callback":
            raise ValueError("WEBAPP_OIDC_CLIENT_ID needs WEBAPP_OIDC_REDIRECT_URL, the public URL of /signin/callback")
        if "openid" not in self.oidc_scopes:
            raise ValueError('WEBAPP_OIDC_SCOPES must include "openid"')
        return self
