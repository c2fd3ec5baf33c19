"""The app's words in English and Finnish, from the files in i18n/<language>/ (one per part of the app,
merged): a page asks for a text by its key, and a key missing from a language falls back to English
(a test keeps the languages complete)."""

import json
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "fi")
DEFAULT = "en"
FILES = Path(__file__).parent / "i18n"


@cache
def catalog(language: str) -> dict[str, str]:
    words: dict[str, str] = {}
    for part in sorted((FILES / language).glob("*.json")):
        found = json.loads(part.read_text(encoding="utf-8"))
        if clash := words.keys() & found.keys():
            raise ValueError(f"{part.name} defines {sorted(clash)} again")
        words |= found
    return words


def translator(language: str):
    words, fallback = catalog(language), catalog(DEFAULT)

    def t(key: str, **values: object) -> str:
        return words.get(key, fallback.get(key, key)).format(**values)

    return t


def chosen(cookie: str | None, accept_language: str | None) -> str:
    """The language a person chose (a cookie), else the first of theirs we have, else English."""
    if cookie in LANGUAGES:
        return cookie
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT
