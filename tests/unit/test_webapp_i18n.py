"""The web app's words: every key in both languages, and every key a template asks for exists."""

import json
import re

from services.webapp.i18n import FILES, LANGUAGES, catalog, chosen

TEMPLATES = FILES.parent / "templates"


def test_both_languages_have_every_key_and_no_empty_text():
    keys = {language: set(catalog(language)) for language in LANGUAGES}
    assert keys["fi"] == keys["en"], keys["fi"] ^ keys["en"]
    assert {p.name for p in (FILES / "fi").glob("*.json")} == {p.name for p in (FILES / "en").glob("*.json")}
    assert all(text.strip() for language in LANGUAGES for text in catalog(language).values())


def test_every_fixed_key_a_template_uses_is_translated():
    asked = re.compile(r"""(?<![\w.])t\(["']([a-z_.]*[a-z_])["']\s*[,)]""")  # t("key") or t("key", …)
    used = {key for page in TEMPLATES.glob("*.html") for key in asked.findall(page.read_text())}
    assert used and used <= set(catalog("en")), used - set(catalog("en"))


def test_the_language_is_the_chosen_one_else_the_browsers_else_english():
    assert chosen("fi", "en-GB") == "fi"
    assert chosen(None, "sv-FI, fi;q=0.8, en;q=0.5") == "fi"
    assert chosen("de", "de-DE") == "en"
    assert json.loads((FILES / "fi" / "common.json").read_text(encoding="utf-8"))["nav.queue"] == "Jono"
