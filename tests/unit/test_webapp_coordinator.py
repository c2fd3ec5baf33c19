"""The coordinators' board in the web app: the boards API's dashboard, its words in the person's language
and told who signed in; each person sees the board of their own region only."""

import json
import re
from datetime import UTC, datetime

from services.shared.principal import Role
from services.webapp.i18n import catalog
from services.webapp.pages.coordinator import WORDS, region_of, signed_in_dashboard
from services.webapp.session import Session
from tests.support.infra import REPO

DASHBOARD = (REPO / "services" / "escalation" / "boards" / "dashboard.html").read_text()
BUILT_IN = json.loads(WORDS.search(DASHBOARD).group(1))


def test_the_dashboards_own_english_words_are_the_web_apps():
    english = catalog("en")
    assert {key: english.get(key) for key in BUILT_IN} == BUILT_IN


def test_every_word_the_dashboard_asks_for_is_in_its_table():
    asked = set(re.findall(r'data-word(?:-label)?="([a-z_.]+)"', DASHBOARD)) | set(re.findall(r'word\("([a-z_.]+)"', DASHBOARD))
    assert asked and asked <= BUILT_IN.keys(), asked - BUILT_IN.keys()


def test_the_page_is_in_the_persons_language_and_knows_who_signed_in():
    page = signed_in_dashboard(DASHBOARD, "fi", {"sub": "rc-uusimaa-1", "who": "</script><b>"})
    assert '<html lang="fi">' in page
    words = json.loads(re.search(r'<script type="application/json" id="words">(.*?)</script>', page).group(1))
    assert words.keys() >= BUILT_IN.keys() and words["board.title"] == catalog("fi")["board.title"]
    assert (words["severity.high"], words["role.store_manager"], words["rule.return_window"]) == (
        "korkea", "myymäläpäällikkö", "palautusaika")
    signed_in = re.search(r'<script type="application/json" id="signed-in">(.*?)</script>', page).group(1)
    assert json.loads(signed_in) == {"sub": "rc-uusimaa-1", "who": "</script><b>"}  # and no tag ended the block
    script = re.compile(r"<script>(.*?)</script>", re.DOTALL)
    assert script.findall(page) == script.findall(DASHBOARD)  # the same script, whose hash the policy allows


def test_a_regional_coordinator_sees_their_own_region_a_senior_manager_the_one_named_and_no_one_else_any():
    def session(role: Role, region: str | None) -> Session:
        now = datetime(2027, 3, 3, tzinfo=UTC)
        return Session("token", "someone", role, None, region, now, now)

    assert region_of(session(Role.regional_coordinator, "uusimaa"), "pirkanmaa") == "uusimaa"
    assert region_of(session(Role.senior_manager, None), "pirkanmaa") == "pirkanmaa"
    assert region_of(session(Role.coordinator, "uusimaa"), "uusimaa") is None
    assert region_of(session(Role.associate, "uusimaa"), "uusimaa") is None
