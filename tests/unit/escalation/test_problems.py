"""Common problems: one kind of complaint, or one policy rule rejecting returns, rising at several stores of a
region at once. Reported once per rise, from a watch that is stored as JSON between observations."""

import itertools
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

import services.escalation
from services.escalation.domain.problems import RECENT_IDS, ProblemRules, Watch, observe
from services.escalation.domain.rules import InvalidRules, load_rules, parse_rules
from services.escalation.events import Observed
from services.shared.events.complaints import Category
from services.shared.events.coordination import Evidence, StoreCount
from services.shared.events.returns import PolicyRule

DEFAULT_RULES = Path(services.escalation.__file__).parent / "rules.toml"
DOCUMENT = tomllib.loads(DEFAULT_RULES.read_text())
RULES = load_rules(DEFAULT_RULES).chain.problems  # 3 stores, 3 each in 24 hours, twice the usual of 28 days

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
KAMPPI, ISO_OMENA, JUMBO, ITIS, SELLO = "hel-kamppi", "esp-iso-omena", "van-jumbo", "hel-itis", "esp-sello"
_sample_ids = itertools.count(1)


def rejection(store: str, at: datetime = NOW, rule: PolicyRule = PolicyRule.return_window) -> Observed:
    """A return rejected by `rule` at `store`."""
    return Observed(
        region_id="uusimaa", store_id=store, category=Category.return_refund_exchange, policy_rule=rule,
        sample_id=UUID(int=next(_sample_ids)), at=at,
    )


def complaint(store: str, at: datetime = NOW) -> Observed:
    return Observed(
        region_id="uusimaa", store_id=store, category=Category.product_quality,
        sample_id=UUID(int=next(_sample_ids)), at=at,
    )


Kind = Callable[[str, datetime], Observed]


def at_store(store: str, n: int, at: datetime = NOW, kind: Kind = rejection) -> list[Observed]:
    return [kind(store, at + timedelta(minutes=i)) for i in range(n)]


def burst(*stores: str, each: int = 3, at: datetime = NOW, kind: Kind = rejection) -> list[Observed]:
    """`each` observations at every store, round by round, a minute apart."""
    return [kind(store, at + timedelta(minutes=i)) for i in range(each) for store in stores]


def history(store: str, per_day: int = 2, days: int = 28) -> list[Observed]:
    """The store's usual rejections, in the 28 days before NOW's window: `per_day` a day."""
    return [rejection(store, NOW - timedelta(days=day)) for day in range(days, 0, -1) for _ in range(per_day)]


def seen_id(seen: Observed) -> str:
    """The envelope id the observation travels under; a replay brings the same one."""
    return f"envelope-{seen.sample_id}"


def watch_all(
    observations: list[Observed], watch: Watch | None = None, rules: ProblemRules = RULES
) -> tuple[Watch, list[Evidence]]:
    """Observes each in turn, as the detector does; the watch after all and the evidence of each problem."""
    watch, found = watch or Watch(), []
    for seen in observations:
        watch, evidence = observe(watch, seen_id(seen), seen, rules)
        if evidence is not None:
            found.append(evidence)
    return watch, found


def stored(watch: Watch) -> Watch:
    return Watch.model_validate_json(watch.model_dump_json())


# ---- a problem is reported with its evidence ---------------------------------------------------


def test_a_burst_of_rejections_by_one_rule_at_three_stores_is_reported_once_naming_them():
    observations = [*at_store(KAMPPI, 4), *burst(ISO_OMENA, JUMBO)]
    _, found = watch_all(observations)
    assert len(found) == 1
    evidence = found[0]
    assert (evidence.category, evidence.policy_rule) == (Category.return_refund_exchange, PolicyRule.return_window)
    assert evidence.stores == [
        StoreCount(store_id=KAMPPI, count=4, baseline=0.0),
        StoreCount(store_id=ISO_OMENA, count=3, baseline=0.0),
        StoreCount(store_id=JUMBO, count=3, baseline=0.0),
    ]
    assert sorted(evidence.sample_return_ids) == sorted(seen.sample_id for seen in observations)
    assert evidence.sample_complaint_ids == []
    assert (evidence.window_start, evidence.window_end) == (NOW - timedelta(hours=23), NOW + timedelta(hours=1))


def test_a_burst_of_complaints_at_three_stores_is_reported_with_sample_complaints():
    observations = burst(KAMPPI, ISO_OMENA, JUMBO, kind=complaint)
    _, [evidence] = watch_all(observations)
    assert (evidence.category, evidence.policy_rule) == (Category.product_quality, None)
    assert sorted(evidence.sample_complaint_ids) == sorted(seen.sample_id for seen in observations)
    assert evidence.sample_return_ids == []


def test_the_problem_is_reported_by_the_observation_that_brings_the_third_store():
    observations = burst(KAMPPI, ISO_OMENA, JUMBO)
    watch = Watch()
    for seen in observations[:-1]:
        watch, evidence = observe(watch, seen_id(seen), seen, RULES)
        assert evidence is None
    _, evidence = observe(watch, seen_id(observations[-1]), observations[-1], RULES)
    assert evidence is not None


def test_the_evidence_keeps_the_latest_five_samples_of_a_store_and_twenty_in_all():
    rules = RULES.model_copy(update={"stores": 5})
    busy = [at_store(store, 7) for store in (KAMPPI, ISO_OMENA, JUMBO, ITIS)]
    _, [evidence] = watch_all([*itertools.chain(*busy), *at_store(SELLO, 3)], rules=rules)
    assert len(evidence.sample_return_ids) == 20
    assert evidence.sample_return_ids[:5] == [seen.sample_id for seen in busy[1][-5:]]  # ISO_OMENA sorts first


# ---- what does not make a problem --------------------------------------------------------------


def test_a_burst_at_a_single_store_is_never_reported():
    assert watch_all(at_store(KAMPPI, 50))[1] == []


def test_a_burst_at_two_stores_is_not_reported_when_three_must_see_it():
    assert watch_all(burst(KAMPPI, ISO_OMENA, each=20))[1] == []


def test_a_burst_at_two_stores_is_reported_when_the_rules_ask_for_two():
    assert len(watch_all(burst(KAMPPI, ISO_OMENA), rules=RULES.model_copy(update={"stores": 2}))[1]) == 1


def test_a_store_below_the_minimum_count_does_not_count_until_it_reaches_it():
    watch, found = watch_all([*burst(KAMPPI, ISO_OMENA), *at_store(JUMBO, 2)])
    assert found == []
    assert len(watch_all([rejection(JUMBO)], watch)[1]) == 1


def test_a_store_that_usually_sees_as_many_does_not_count_until_it_sees_twice_its_usual():
    # Two a day over 28 days: two expected in a 24-hour window, so four are needed.
    watch, found = watch_all([*history(JUMBO), *burst(KAMPPI, ISO_OMENA, JUMBO)])
    assert found == []
    _, [evidence] = watch_all([rejection(JUMBO)], watch)
    assert StoreCount(store_id=JUMBO, count=4, baseline=2.0) in evidence.stores


def no_receipt(store: str, at: datetime = NOW) -> Observed:
    return rejection(store, at, PolicyRule.receipt_required)


def test_the_evidence_names_the_rule_that_rejected_the_returns():
    _, [evidence] = watch_all(burst(KAMPPI, ISO_OMENA, JUMBO, kind=no_receipt))
    assert evidence.policy_rule == PolicyRule.receipt_required


def test_an_observation_replayed_is_counted_once():
    observations = [*burst(KAMPPI, ISO_OMENA), *at_store(JUMBO, 2)]
    watch, _ = watch_all(observations)
    replayed, evidence = observe(watch, seen_id(observations[-1]), observations[-1], RULES)
    assert evidence is None
    assert replayed == watch
    assert sum(replayed.counts[JUMBO].values()) == 2



def test_an_observation_is_known_as_long_as_it_is_among_the_recent_ids_and_not_longer():
    observations = at_store(KAMPPI, RECENT_IDS + 2)
    watch, _ = watch_all(observations)
    assert watch.recent_ids == [seen_id(seen) for seen in observations[-RECENT_IDS:]]
    assert watch.recent == set(watch.recent_ids)
    counted = sum(watch.counts[KAMPPI].values())
    for old in observations[:2]:  # forgotten: counted again (its set followed the list)
        assert sum(observe(watch, seen_id(old), old, RULES)[0].counts[KAMPPI].values()) == counted + 1
    for recent in (observations[2], observations[-1]):
        assert observe(watch, seen_id(recent), recent, RULES)[0] is watch


def test_a_stored_watch_with_an_id_twice_still_knows_its_recent_ids():
    watch = Watch(recent_ids=["a", "a", "b"])
    updated, _ = observe(watch, "c", rejection(KAMPPI), RULES)
    assert updated.recent_ids == ["a", "a", "b", "c"] and updated.recent == {"a", "b", "c"}
    assert observe(updated, "a", rejection(KAMPPI), RULES)[0] is updated
    assert watch.recent == {"a", "b"}

# ---- once per rise -----------------------------------------------------------------------------


def test_the_rest_of_the_burst_reports_nothing_more():
    observations = [*burst(KAMPPI, ISO_OMENA, JUMBO, each=10), *at_store(ITIS, 10), *at_store(KAMPPI, 10)]
    assert len(watch_all(observations)[1]) == 1


def test_a_burst_still_in_the_window_is_the_same_problem():
    watch, _ = watch_all(burst(KAMPPI, ISO_OMENA, JUMBO))
    assert watch_all(burst(KAMPPI, ISO_OMENA, JUMBO, at=NOW + timedelta(hours=12)), watch)[1] == []


def test_after_the_problem_dies_down_a_new_burst_is_reported_again():
    watch, [first] = watch_all(burst(KAMPPI, ISO_OMENA, JUMBO))
    later = NOW + timedelta(days=2)
    watch, [again] = watch_all(burst(KAMPPI, ISO_OMENA, JUMBO, at=later), watch)
    assert again.window_start == later - timedelta(hours=23)
    assert {store.store_id for store in again.stores} == {KAMPPI, ISO_OMENA, JUMBO}
    assert not set(again.sample_return_ids) & set(first.sample_return_ids)


def test_a_problem_that_died_down_at_one_store_is_reported_again_when_that_store_rises_again():
    watch, _ = watch_all(burst(KAMPPI, ISO_OMENA, JUMBO, each=4))
    # A day later only two stores still see it: the problem is over ...
    day_later = NOW + timedelta(days=1)
    watch, found = watch_all(burst(KAMPPI, ISO_OMENA, at=day_later), watch)
    assert (found, watch.active) == ([], False)
    # ... until a third rises with them.
    assert len(watch_all(at_store(ITIS, 3, at=day_later), watch)[1]) == 1


# ---- what the watch keeps ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("later", "kept"),
    [(timedelta(days=28, hours=23), True), (timedelta(days=28, hours=24), False)],
    ids=["baseline and window later", "an hour more"],
)
def test_counts_older_than_the_baseline_and_the_window_are_forgotten(later, kept):
    watch, _ = watch_all([rejection(KAMPPI), rejection(ISO_OMENA, NOW + later)])
    assert (KAMPPI in watch.counts) is kept


@pytest.mark.parametrize(
    ("later", "kept"), [(timedelta(hours=23), True), (timedelta(hours=24), False)], ids=["in the window", "after it"]
)
def test_samples_are_kept_only_for_the_window(later, kept):
    watch, _ = watch_all([rejection(KAMPPI), rejection(ISO_OMENA, NOW + later)])
    assert (KAMPPI in watch.samples) is kept


def test_a_watch_stored_as_json_is_the_same_watch():
    observations = [*history(JUMBO, days=3), *burst(KAMPPI, ISO_OMENA, JUMBO, each=4)]
    watch, _ = watch_all(observations)
    assert watch.active
    assert stored(watch) == watch


def test_a_watch_stored_as_json_after_every_observation_reports_the_same_problems():
    later = NOW + timedelta(days=2)
    burst_ = burst(KAMPPI, ISO_OMENA, JUMBO, each=4)
    observations = [*history(JUMBO), *burst_, burst_[0], *burst(KAMPPI, ISO_OMENA, JUMBO, each=4, at=later), burst_[-1]]
    in_memory, found = watch_all(observations)
    watch, found_stored = Watch(), []
    for seen in observations:
        watch, evidence = observe(stored(watch), seen_id(seen), seen, RULES)
        if evidence is not None:
            found_stored.append(evidence)
    assert len(found) == 2
    assert found_stored == found
    assert watch == in_memory


# ---- the rules -----------------------------------------------------------------------------------


def document(problems: dict[str, Any], **regions: dict[str, Any]) -> dict[str, Any]:
    """The default rules document with the chain's problem rules changed and regions added."""
    chain = {**DOCUMENT["chain"], "problems": {**DOCUMENT["chain"]["problems"], **problems}}
    return {"chain": chain, "regions": {**DOCUMENT["regions"], **regions}}


def test_the_default_rules_say_what_a_common_problem_is():
    assert RULES == ProblemRules(stores=3, window_hours=24, baseline_days=28, min_count=3, rise_factor=2.0)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("stores", 1),
        ("stores", "3"),
        ("window_hours", 0),
        ("window_hours", 24 * 15),
        ("baseline_days", 0),
        ("baseline_days", 91),
        ("min_count", 0),
        ("rise_factor", 0.5),
        ("threshold", 2),
    ],
)
def test_bad_problem_rules_are_refused_naming_the_field(key, value):
    with pytest.raises(InvalidRules, match=rf"^rules: chain\.problems\.{key}: "):
        parse_rules(document({key: value}))


def test_a_bad_regional_problem_rule_is_refused_naming_the_region():
    with pytest.raises(InvalidRules, match=r"^rules: regions\.pirkanmaa\.problems\.stores: "):
        parse_rules(document({}, pirkanmaa={"problems": {"stores": 1}}))


def test_a_regions_problem_rules_override_only_the_keys_they_name():
    book = parse_rules(document({"min_count": 5}, pirkanmaa={"problems": {"stores": 4}}))
    assert book.for_region("pirkanmaa").problems == ProblemRules(
        stores=4, window_hours=24, baseline_days=28, min_count=5, rise_factor=2.0
    )
    assert book.chain.problems.stores == 3
    assert book.for_region("uusimaa").problems == book.chain.problems
