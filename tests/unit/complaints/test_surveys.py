"""The CSAT survey link sent on resolution: where it goes, when it is no longer sent, what it says."""

import secrets
from datetime import UTC, date, datetime, timedelta

import pytest

from services.complaints.api.app import build_app
from services.complaints.domain.surveys import survey_ended, survey_link, survey_message, survey_routes
from services.complaints.settings import ComplaintsSettings
from services.shared.delivery.channels import DEVELOPMENT_WEBHOOK_KEY, Channel, Route
from services.shared.settings import PlatformSettings

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
EMAIL, PHONE = "aino@example.com", "+358 40 123 4567"


def test_email_first_with_sms_as_the_failover_when_both_were_given():
    assert survey_routes(EMAIL, PHONE) == [Route(Channel.email, EMAIL), Route(Channel.sms, PHONE)]


def test_only_an_email_or_only_a_phone_is_the_one_route():
    assert survey_routes(EMAIL, None) == [Route(Channel.email, EMAIL)]
    assert survey_routes(None, PHONE) == [Route(Channel.sms, PHONE)]


def test_an_erased_contact_leaves_nowhere_to_send():
    assert survey_routes(None, None) == []
    assert survey_routes("", "") == []


def test_an_open_survey_is_sent_until_the_moment_it_expires():
    assert survey_ended(None, NOW + timedelta(days=14), NOW) is None
    assert survey_ended(None, NOW, NOW) is None


def test_an_answered_or_expired_survey_is_not_sent():
    assert survey_ended(NOW - timedelta(minutes=1), NOW + timedelta(days=1), NOW) == "the survey was answered"
    assert survey_ended(None, NOW - timedelta(seconds=1), NOW) == "the survey expired"


@pytest.mark.parametrize("base", ["https://survey.example.com/csat", "https://survey.example.com/csat/"])
def test_the_link_is_the_survey_page_and_the_token(base):
    assert survey_link(base, "Ab-_12") == "https://survey.example.com/csat/Ab-_12"


def test_the_message_names_the_store_the_last_day_and_the_link_in_full_and_in_short():
    link = survey_link("https://survey.example.com/csat", secrets.token_urlsafe(32))
    message = survey_message(link, "Kamppi", date(2026, 12, 15))
    assert "Kamppi" in message.subject
    for text in (message.body, message.short):
        assert link in text and "2026-12-15" in text and "Kamppi" in text
    assert len(message.short) <= 160  # one text message, with a real token in the link


def test_settings_read_the_channels_under_the_complaints_prefix(monkeypatch, tmp_path):
    monkeypatch.setenv("COMPLAINTS_SMTP_PORT", "2525")
    monkeypatch.setenv("COMPLAINTS_SMS_GATEWAY_URL", "https://sms.example.com/send")
    monkeypatch.setenv("COMPLAINTS_SURVEY_URL", "https://survey.example.com/csat")
    settings = ComplaintsSettings(database_url=f"sqlite:///{tmp_path}/complaints.db")
    assert (settings.smtp_port, settings.sms_gateway_url) == (2525, "https://sms.example.com/send")
    assert settings.survey_url == "https://survey.example.com/csat"
    assert settings.sender == "customer-care@retail-care.invalid"


def test_production_refuses_the_development_webhook_key_for_an_sms_gateway(tmp_path):
    production = PlatformSettings(env="production", auth_signing_key="kJ7q/Vd2+Xw9LpZ0sNfR4tYh6mBc1uGe8aQxTzWn3oHvE5yU")
    settings = ComplaintsSettings(
        database_url=f"sqlite:///{tmp_path}/complaints.db", sms_gateway_url="https://sms.example.com/send",
        customer_ref_key="3f9c1a7be24d08c6915e7a2fd03b8c41e6a95d27b0f4c813a2e769d5c0b1f384",
    )
    with pytest.raises(ValueError, match="COMPLAINTS_WEBHOOK_SIGNING_KEY is the development key") as raised:
        build_app(settings, production)
    assert DEVELOPMENT_WEBHOOK_KEY not in str(raised.value)
