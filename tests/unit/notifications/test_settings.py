"""Production refuses an acknowledge-link key anyone could know."""

import pytest
from pydantic import SecretStr

from services.notifications.api.app import build_app
from services.notifications.settings import NotificationsSettings
from services.shared.settings import PlatformSettings

PRODUCTION = PlatformSettings(env="production", auth_signing_key=SecretStr("Vq8z3LkP0xW7rT2mN5bY9cH4jF6gD1sA"))


def test_production_refuses_the_development_link_key():
    with pytest.raises(ValueError, match="NOTIFICATIONS_LINK_SIGNING_KEY is the development key"):
        build_app(NotificationsSettings(database_url="sqlite://"), PRODUCTION)


def test_production_takes_a_random_link_key():
    build_app(NotificationsSettings(database_url="sqlite://", link_signing_key=SecretStr("pX4rT9wQ2zL7mK1vB8nC3yH6jD5fG0sA")),
              PRODUCTION)
