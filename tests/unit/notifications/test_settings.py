"""Production refuses an acknowledge-link or webhook key anyone could know."""

import pytest
from pydantic import SecretStr

from services.notifications.api.app import build_app
from services.notifications.settings import NotificationsSettings
from services.shared.settings import PlatformSettings

PRODUCTION = PlatformSettings(env="production", auth_signing_key=SecretStr("Vq8z3LkP0xW7rT2mN5bY9cH4jF6gD1sA"))
LINK_KEY = SecretStr("pX4rT9wQ2zL7mK1vB8nC3yH6jD5fG0sA")
WEBHOOK_KEY = SecretStr("Hq2wE7rT4yU9iO1pA6sD3fG8hJ5kL0zX")


def test_production_refuses_the_development_link_key():
    with pytest.raises(ValueError, match="NOTIFICATIONS_LINK_SIGNING_KEY is the development key"):
        build_app(NotificationsSettings(database_url="sqlite://", webhook_signing_key=WEBHOOK_KEY), PRODUCTION)


def test_production_refuses_the_development_webhook_key():
    with pytest.raises(ValueError, match="NOTIFICATIONS_WEBHOOK_SIGNING_KEY is the development key"):
        build_app(NotificationsSettings(database_url="sqlite://", link_signing_key=LINK_KEY), PRODUCTION)


def test_production_takes_random_keys():
    build_app(NotificationsSettings(database_url="sqlite://", link_signing_key=LINK_KEY, webhook_signing_key=WEBHOOK_KEY),
              PRODUCTION)
