"""The analytics worker's configuration: a time zone it cannot know stops it with the variable named."""

import pytest
from pydantic import ValidationError

from services.analytics.settings import AnalyticsSettings


def test_daily_windows_take_the_configured_iana_zone(monkeypatch):
    monkeypatch.setenv("ANALYTICS_TIMEZONE", "America/New_York")
    assert str(AnalyticsSettings().window_rules.timezone) == "America/New_York"


def test_an_unknown_time_zone_is_refused_with_the_variable_named(monkeypatch):
    monkeypatch.setenv("ANALYTICS_TIMEZONE", "Europe/Atlantis")
    with pytest.raises(ValidationError, match=r"timezone[\s\S]*unknown time zone 'Europe/Atlantis'"):
        AnalyticsSettings()
