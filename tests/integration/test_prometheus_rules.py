"""deploy/prometheus checked with Debian's promtool: the configuration, the recording and alert
rules, and the alert rules' unit tests (deploy/prometheus/rules/alerts_test.yml, and alerts_week_test.yml for
the alerts over a trailing week)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import jwt

import pytest

from tests.support.infra import REPO


@pytest.fixture(scope="module")
def minted(tmp_path_factory):
    """deploy/prometheus as an operator deploys it, with the scrape token minted as its configuration says."""
    target = tmp_path_factory.mktemp("minted") / "prometheus"
    shutil.copytree(REPO / "deploy" / "prometheus", target)
    documented = re.search(r"^#\s+(retail token .*)$", (target / "prometheus.yml").read_text(), re.MULTILINE).group(1)
    once = documented.replace("--renew-hours 12", "").split()  # the same token, minted once rather than kept
    minted = subprocess.run([str(Path(sys.executable).parent / "retail"), *once[1:]], cwd=target, capture_output=True, text=True)
    assert minted.returncode == 0, minted.stderr
    token = target / "secrets" / "scrape-token"
    assert token.stat().st_mode & 0o777 == 0o600
    claims = jwt.decode(token.read_text().strip(), options={"verify_signature": False})
    assert claims["role"] == "metrics" and claims["exp"] - claims["iat"] == 1440 * 60
    return target


@pytest.fixture
def deployed(minted, tmp_path):
    """A copy of the minted deployment for one test to change (the token minted once: the CLI takes seconds to start)."""
    return shutil.copytree(minted, tmp_path / "prometheus")


def promtool(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(["promtool", *args], cwd=cwd, capture_output=True, text=True, check=False)


def unit_tests(deployed, *files: str) -> subprocess.CompletedProcess:
    """The alert rules' unit tests: those of `files`, or all of them (the week's take seconds)."""
    return promtool("test", "rules", *(files or ("alerts_test.yml", "alerts_week_test.yml")), cwd=deployed / "rules")


def test_the_configuration_and_rules_are_valid(deployed):
    config = promtool("check", "config", "prometheus.yml", cwd=deployed)
    assert config.returncode == 0, config.stdout + config.stderr
    assert "2 rule files found" in config.stdout
    rules = promtool("check", "rules", "rules/recording.yml", "rules/alerts.yml", cwd=deployed)
    assert rules.returncode == 0, rules.stdout + rules.stderr


def test_the_alert_rules_pass_their_unit_tests(deployed):
    result = unit_tests(deployed)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wrong_threshold_fails_the_alert_unit_tests(deployed):
    alerts = deployed / "rules" / "alerts.yml"
    alerts.write_text(alerts.read_text().replace("> 0.2", "> 0.5"))
    result = unit_tests(deployed, "alerts_test.yml")
    assert result.returncode != 0 and "RetailSlaBreachRateHigh" in result.stdout + result.stderr


def test_a_page_rule_blind_to_the_first_undeliverable_after_a_start_fails_the_alert_unit_tests(deployed):
    recording = deployed / "rules" / "recording.yml"
    first_count = '            or notifications_deliveries_total{outcome="undeliverable"}\n'
    recording.write_text(recording.read_text().replace(first_count, ""))
    result = unit_tests(deployed, "alerts_test.yml")
    assert result.returncode != 0 and "NotificationsPagesUndeliverable" in result.stdout + result.stderr


def test_a_wrong_overdue_page_threshold_fails_the_alert_unit_tests(deployed):
    alerts = deployed / "rules" / "alerts.yml"
    alerts.write_text(alerts.read_text().replace('{kind="page"}) > 0', '{kind="page"}) > 1'))
    result = unit_tests(deployed, "alerts_test.yml")
    assert result.returncode != 0 and "NotificationsPagesOverdue" in result.stdout + result.stderr


def test_a_wrong_csat_drop_threshold_fails_the_weeks_alert_unit_tests(deployed):
    alerts = deployed / "rules" / "alerts.yml"
    alerts.write_text(alerts.read_text().replace("mean7d - 0.5)", "mean7d - 2)"))
    result = unit_tests(deployed, "alerts_week_test.yml")
    assert result.returncode != 0 and "RetailCsatDrop" in result.stdout + result.stderr
