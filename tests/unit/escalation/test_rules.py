"""The routing rules: the default file, region overrides, and a clear refusal of any bad document."""

import tomllib
from pathlib import Path
from typing import Any

import pytest

import services.escalation
from services.escalation.domain.rules import InvalidRules, Rules, Sla, load_rules, parse_rules
from services.shared.events.complaints import Category, Mood, Severity
from services.shared.events.fields import Tier

DEFAULT_RULES = Path(services.escalation.__file__).parent / "rules.toml"
DEFAULT_TEXT = DEFAULT_RULES.read_text()
DEFAULT_DOCUMENT = tomllib.loads(DEFAULT_TEXT)


def with_region(region: str, overrides: dict[str, Any]) -> dict[str, Any]:
    """The default document with one more region's overrides."""
    return {**DEFAULT_DOCUMENT, "regions": {**DEFAULT_DOCUMENT["regions"], region: overrides}}


# ---- the default rules ------------------------------------------------------------------------


def test_the_default_rules_load():
    book = load_rules(DEFAULT_RULES)
    assert isinstance(book.chain, Rules)
    assert set(book.regions) == {"uusimaa"}


def test_the_default_chain_rules_say_what_the_issue_asks():
    chain = load_rules(DEFAULT_RULES).chain
    assert chain.severity == {
        Severity.low: Tier.associate,
        Severity.medium: Tier.associate,
        Severity.high: Tier.coordinator,
        Severity.critical: Tier.store_manager,
    }
    assert chain.mood == {Mood.angry: Tier.store_manager, Mood.hostile: Tier.store_manager}
    assert chain.category == {Category.staff_conduct: Tier.coordinator}
    assert chain.page_severities == {Severity.critical}
    assert chain.page_moods == {Mood.hostile}
    assert chain.refund_threshold_minor == 20_000
    assert chain.repeat_customer_count == 3


def test_the_default_rules_give_every_tier_deadlines():
    sla = load_rules(DEFAULT_RULES).chain.sla
    assert sla == {
        Tier.associate: Sla(acknowledge_minutes=15, resolve_minutes=240),
        Tier.coordinator: Sla(acknowledge_minutes=15, resolve_minutes=240),
        Tier.store_manager: Sla(acknowledge_minutes=10, resolve_minutes=180),
        Tier.regional_coordinator: Sla(acknowledge_minutes=30, resolve_minutes=480),
        Tier.senior_manager: Sla(acknowledge_minutes=60, resolve_minutes=1440),
    }


# ---- region overrides -------------------------------------------------------------------------


def test_uusimaa_overrides_only_the_refund_threshold():
    book = load_rules(DEFAULT_RULES)
    uusimaa = book.for_region("uusimaa")
    assert uusimaa.refund_threshold_minor == 30_000
    assert uusimaa.model_copy(update={"refund_threshold_minor": book.chain.refund_threshold_minor}) == book.chain


@pytest.mark.parametrize("region", ["pirkanmaa", "varsinais-suomi", "lappi"])
def test_a_region_without_overrides_falls_back_to_the_chain(region):
    book = load_rules(DEFAULT_RULES)
    assert book.for_region(region) == book.chain
    assert book.for_region(region).refund_threshold_minor == 20_000


def test_an_override_inside_a_table_changes_only_the_key_it_names():
    book = parse_rules(with_region("pirkanmaa", {"mood": {"angry": "coordinator"}}))
    assert book.for_region("pirkanmaa").mood == {Mood.angry: Tier.coordinator, Mood.hostile: Tier.store_manager}
    assert book.chain.mood == {Mood.angry: Tier.store_manager, Mood.hostile: Tier.store_manager}


def test_an_sla_override_changes_only_the_tier_and_deadline_it_names():
    book = parse_rules(with_region("pirkanmaa", {"sla": {"store_manager": {"acknowledge_minutes": 5}}}))
    pirkanmaa = book.for_region("pirkanmaa")
    assert pirkanmaa.sla[Tier.store_manager] == Sla(acknowledge_minutes=5, resolve_minutes=180)
    assert {tier: sla for tier, sla in pirkanmaa.sla.items() if tier != Tier.store_manager} == {
        tier: sla for tier, sla in book.chain.sla.items() if tier != Tier.store_manager
    }
    assert book.chain.sla[Tier.store_manager] == Sla(acknowledge_minutes=10, resolve_minutes=180)


def test_a_list_override_replaces_the_chain_list():
    book = parse_rules(with_region("pirkanmaa", {"page_moods": ["angry", "hostile"]}))
    assert book.for_region("pirkanmaa").page_moods == {Mood.angry, Mood.hostile}
    assert book.chain.page_moods == {Mood.hostile}


def test_regions_override_independently_of_each_other():
    book = parse_rules(with_region("pirkanmaa", {"repeat_customer_count": 5}))
    assert book.for_region("pirkanmaa").repeat_customer_count == 5
    assert book.for_region("pirkanmaa").refund_threshold_minor == 20_000
    assert book.for_region("uusimaa").repeat_customer_count == 3
    assert book.for_region("uusimaa").refund_threshold_minor == 30_000


def test_parsing_leaves_the_document_as_it_was():
    document = with_region(
        "pirkanmaa", {"mood": {"angry": "coordinator"}, "sla": {"associate": {"resolve_minutes": 60}}}
    )
    before = repr(document)
    parse_rules(document)
    assert repr(document) == before


# ---- a bad rules file refuses with its name and the field path ---------------------------------


def _replace(old: str, new: str):
    def edit(text: str) -> str:
        assert old in text, f"the default rules no longer contain {old!r}"
        return text.replace(old, new, 1)

    return edit


def _drop_table(header: str):
    """Removes a table and its keys (up to the next blank line) from the default text."""

    def edit(text: str) -> str:
        start = text.index(header)
        end = text.index("\n\n", start)
        return text[:start] + text[end + 2 :]

    return edit


def _append(lines: str):
    return lambda text: text + "\n" + lines + "\n"


BAD_FILES = {
    "an unknown tier": (
        _replace('high = "coordinator"', 'high = "boss"'),
        "chain.severity.high",
    ),
    "an unknown severity": (
        _replace('high = "coordinator"', 'high = "coordinator"\nurgent = "associate"'),
        "chain.severity.urgent",
    ),
    "a missing severity": (
        _replace('critical = "store_manager"\n', ""),
        "chain.severity",
    ),
    "no severity table": (
        _drop_table("[chain.severity]"),
        "chain.severity",
    ),
    "an unknown mood": (
        _replace('angry = "store_manager"', 'furious = "store_manager"'),
        "chain.mood.furious",
    ),
    "an unknown category": (
        _replace('staff_conduct = "coordinator"', 'rudeness = "coordinator"'),
        "chain.category.rudeness",
    ),
    "a missing SLA tier": (
        _drop_table("[chain.sla.senior_manager]"),
        "chain.sla",
    ),
    "an SLA for an unknown tier": (
        _append("[chain.sla.ceo]\nacknowledge_minutes = 1\nresolve_minutes = 2"),
        "chain.sla.ceo",
    ),
    "acknowledge after resolve": (
        _replace("acknowledge_minutes = 10", "acknowledge_minutes = 181"),
        "chain.sla.store_manager",
    ),
    "a zero deadline": (
        _replace("acknowledge_minutes = 60", "acknowledge_minutes = 0"),
        "chain.sla.senior_manager.acknowledge_minutes",
    ),
    "a missing deadline": (
        _replace("resolve_minutes = 480\n", ""),
        "chain.sla.regional_coordinator.resolve_minutes",
    ),
    "an unknown key in the chain": (
        _replace("repeat_customer_count = 3", 'repeat_customer_count = 3\ncolour = "red"'),
        "chain.colour",
    ),
    "an unknown key in an SLA": (
        _replace("resolve_minutes = 1440", "resolve_minutes = 1440\ngrace_minutes = 5"),
        "chain.sla.senior_manager.grace_minutes",
    ),
    "an unknown paging severity": (
        _replace('page_severities = ["critical"]', 'page_severities = ["extreme"]'),
        "chain.page_severities",
    ),
    "an unknown paging mood": (
        _replace('page_moods = ["hostile"]', 'page_moods = ["furious"]'),
        "chain.page_moods",
    ),
    "a negative refund threshold": (
        _replace("refund_threshold_minor = 20000", "refund_threshold_minor = -1"),
        "chain.refund_threshold_minor",
    ),
    "a text refund threshold": (
        _replace("refund_threshold_minor = 20000", 'refund_threshold_minor = "200 EUR"'),
        "chain.refund_threshold_minor",
    ),
    "a repeat count of one": (
        _replace("repeat_customer_count = 3", "repeat_customer_count = 1"),
        "chain.repeat_customer_count",
    ),
    "a repeat window, which complaint.filed fixes at 30 days": (
        _replace("repeat_customer_count = 3", "repeat_customer_count = 3\nrepeat_customer_days = 60"),
        "chain.repeat_customer_days",
    ),
    "minutes given as true": (
        _replace("acknowledge_minutes = 60", "acknowledge_minutes = true"),
        "chain.sla.senior_manager.acknowledge_minutes",
    ),
    "a bad region override": (
        _append('[regions.uusimaa.mood]\nangry = "furious"'),
        "regions.uusimaa.mood.angry",
    ),
    "an unknown key in a region": (
        _append('colour = "red"'),  # the file ends inside [regions.uusimaa]
        "regions.uusimaa.colour",
    ),
    "a region's unknown tier for a category": (
        _append('[regions.uusimaa.category]\nwait_time = "boss"'),
        "regions.uusimaa.category.wait_time",
    ),
    "a region's acknowledge after its resolve": (
        _append("[regions.uusimaa.sla.associate]\nacknowledge_minutes = 241"),
        "regions.uusimaa.sla.associate",
    ),
    "a region's negative threshold": (
        _replace("refund_threshold_minor = 30000", "refund_threshold_minor = -5"),
        "regions.uusimaa.refund_threshold_minor",
    ),
    "an unknown top-level table": (
        _append("[escalation]\nenabled = true"),
        "escalation",
    ),
}


@pytest.mark.parametrize(("edit", "field_path"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_rules_file_with_an_error_refuses_naming_the_file_and_the_field(tmp_path, edit, field_path):
    path = tmp_path / "rules.toml"
    path.write_text(edit(DEFAULT_TEXT))
    with pytest.raises(InvalidRules) as refused:
        load_rules(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: ")
    assert field_path in message


@pytest.mark.parametrize(
    ("edit", "what"),
    [
        (_replace('critical = "store_manager"\n', ""), "critical"),
        (_drop_table("[chain.sla.senior_manager]"), "senior_manager"),
        (
            _replace("acknowledge_minutes = 10", "acknowledge_minutes = 181"),
            "acknowledge_minutes must not exceed resolve_minutes",
        ),
    ],
    ids=["missing severity", "missing SLA tier", "acknowledge after resolve"],
)
def test_the_message_names_what_is_missing_or_wrong(tmp_path, edit, what):
    path = tmp_path / "rules.toml"
    path.write_text(edit(DEFAULT_TEXT))
    with pytest.raises(InvalidRules, match=what):
        load_rules(path)


def test_every_error_in_a_document_is_reported_at_once(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(
        _replace('high = "coordinator"', 'high = "boss"')(
            _replace("refund_threshold_minor = 20000", "refund_threshold_minor = -1")(DEFAULT_TEXT)
        )
    )
    with pytest.raises(InvalidRules) as refused:
        load_rules(path)
    assert "chain.severity.high" in str(refused.value)
    assert "chain.refund_threshold_minor" in str(refused.value)


@pytest.mark.parametrize(
    ("old", "broken"),
    [
        ('high = "coordinator"', "high = coordinator"),
        ("refund_threshold_minor = 20000", "refund_threshold_minor = "),
        ('medium = "associate"', 'low = "coordinator"'),
        ("[chain.sla.store_manager]", "[chain.sla.associate]"),
        ("[chain.mood]", "[chain.mood"),
    ],
    ids=["bare word", "missing value", "key defined twice", "table defined twice", "unclosed table header"],
)
def test_invalid_toml_refuses_naming_the_file_and_the_line(tmp_path, old, broken):
    line = DEFAULT_TEXT[: DEFAULT_TEXT.index(old)].count("\n") + 1
    path = tmp_path / "broken.toml"
    path.write_text(DEFAULT_TEXT.replace(old, broken, 1))
    with pytest.raises(InvalidRules) as refused:
        load_rules(path)
    assert str(refused.value).startswith(f"{path}: ")
    assert f"line {line}," in str(refused.value)


def test_a_file_that_ends_in_the_middle_refuses_naming_the_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text(DEFAULT_TEXT + "\n[regions.pirkanmaa")
    with pytest.raises(InvalidRules) as refused:
        load_rules(path)
    assert str(refused.value).startswith(f"{path}: ")
    assert "end of document" in str(refused.value)


@pytest.mark.parametrize(
    "text",
    ["", "[regions.uusimaa]\nrefund_threshold_minor = 30000\n", "[chains]\nrefund_threshold_minor = 1\n"],
    ids=["empty file", "regions only", "misspelt chain"],
)
def test_a_file_without_a_chain_table_refuses(tmp_path, text):
    path = tmp_path / "rules.toml"
    path.write_text(text)
    with pytest.raises(InvalidRules) as refused:
        load_rules(path)
    assert str(refused.value).startswith(f"{path}: ")
    assert "[chain]" in str(refused.value)


def test_a_missing_file_refuses_naming_it(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(InvalidRules) as refused:
        load_rules(path)
    assert str(path) in str(refused.value)


# Shapes TOML can express but the text edits above cannot reach without restructuring the file.
BAD_DOCUMENTS = {
    "chain is not a table": ({"chain": 3}, "chain"),
    "sla is not a table": ({"chain": {**DEFAULT_DOCUMENT["chain"], "sla": 3}}, "chain.sla"),
    "an SLA tier is not a table": (
        with_region("pirkanmaa", {"sla": {"associate": 5}}),
        "regions.pirkanmaa.sla.associate",
    ),
    "regions is not a table": ({**DEFAULT_DOCUMENT, "regions": 3}, "regions"),
    "a region is not a table": (with_region("pirkanmaa", 3), "regions.pirkanmaa"),
    "a region id that is not a slug": (with_region("Pirkanmaa Region", {}), "Pirkanmaa Region"),
}


@pytest.mark.parametrize(("document", "field_path"), BAD_DOCUMENTS.values(), ids=BAD_DOCUMENTS.keys())
def test_a_badly_shaped_document_refuses_with_the_field_path(document, field_path):
    with pytest.raises(InvalidRules) as refused:
        parse_rules(document, "rules.toml")
    assert str(refused.value).startswith("rules.toml: ")
    assert field_path in str(refused.value)


def test_invalid_rules_is_a_value_error():
    assert issubclass(InvalidRules, ValueError)
