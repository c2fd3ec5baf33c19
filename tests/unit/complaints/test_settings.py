import pytest

from services.complaints.api.app import build_app
from services.complaints.settings import DEVELOPMENT_CUSTOMER_REF_KEY, ComplaintsSettings
from services.shared.settings import PlatformSettings

PRODUCTION = PlatformSettings(env="production", auth_signing_key="kJ7q/Vd2+Xw9LpZ0sNfR4tYh6mBc1uGe8aQxTzWn3oHvE5yU")


@pytest.mark.parametrize(
    ("key", "reason"),
    [(DEVELOPMENT_CUSTOMER_REF_KEY, "is the development key"), ("k7/Vd2+Xw9LpZ0sN", "at least 32 bytes"),
     ("customer-ref-secret-for-production-2026", "a placeholder")],
    ids=["development", "short", "placeholder"],
)
def test_production_refuses_a_weak_customer_ref_key_and_never_shows_it(key, reason, tmp_path):
    settings = ComplaintsSettings(customer_ref_key=key, database_url=f"sqlite:///{tmp_path}/complaints.db")
    with pytest.raises(ValueError, match=reason) as raised:
        build_app(settings, PRODUCTION)
    assert str(raised.value).startswith("COMPLAINTS_CUSTOMER_REF_KEY ")
    assert key not in str(raised.value)


def test_production_takes_a_random_customer_ref_key(tmp_path):
    settings = ComplaintsSettings(customer_ref_key="3f9c1a7be24d08c6915e7a2fd03b8c41e6a95d27b0f4c813a2e769d5c0b1f384",
                                  database_url=f"sqlite:///{tmp_path}/complaints.db")
    assert build_app(settings, PRODUCTION).title
