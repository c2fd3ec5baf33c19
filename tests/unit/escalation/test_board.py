"""A region's live board, built from the worker's cases changelog and the coordination topic: its open
complaints in the order to work them, their counts, each site's open and breached complaints over the
last day, and its common problems with their proposals."""

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any
from pathlib import Path
from uuid import UUID

import pytest

import services.escalation
from services.escalation.boards.board import HISTORY_HOURS, Boards, Summary, history
from services.escalation.domain.cases import BreachMark, Case, PageMark
from services.escalation.domain.rules import load_rules
from services.shared.events.coordination import (
    PolicyDecided, PolicyProposed, ProblemAcknowledged, ProblemDetected, StoreCount,
)
from services.shared.events.escalations import Assignee, DeadlineKind
from services.shared.events.fields import Tier

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
RULES = load_rules(Path(services.escalation.__file__).parent / "rules.toml").chain
UUSIMAA, PIRKANMAA = "uusimaa", "pirkanmaa"
KAMPPI, ISO_OMENA = "hel-kamppi", "esp-iso-omena"
ASSOCIATE, MANAGER = "emp-1042", "mgr-0007"
_complaint_ids = itertools.count(1)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def breach(tier: Tier = Tier.associate) -> BreachMark:
    return BreachMark(kind=DeadlineKind.acknowledge, tier=tier, deadline=NOW - minutes(5), at=NOW - minutes(5))


PAGE = PageMark(recipient=Assignee(tier=Tier.store_manager, staff_id=MANAGER), reason="severity critical", at=NOW)


def case(filed_ago: timedelta = minutes(30), **changes: Any) -> Case:
    """An open, unacknowledged low-severity case at Kamppi in Uusimaa, with the associate."""
    filed_at = NOW - filed_ago
    calm = {
        "complaint_id": UUID(int=next(_complaint_ids)), "store_id": KAMPPI, "region_id": UUSIMAA,
        "category": "service", "severity": "low", "mood": "calm", "channel": "in_store", "filed_at": filed_at,
        "assignee": Assignee(tier=Tier.associate, staff_id=ASSOCIATE), "reason": "severity low → associate",
        "acknowledge_by": filed_at + minutes(15), "resolve_by": filed_at + minutes(240), "partition": 0,
    }
    return Case.model_validate({**calm, **changes})


def apply(boards: Boards, *cases: Case) -> Boards:
    """Applies each case as the changelog record the worker's table writes."""
    for each in cases:
        boards.apply_case(each.complaint_id.bytes, each.model_dump_json().encode())
    return boards


def listed(boards: Boards, region: str = UUSIMAA) -> list[UUID]:
    return [complaint.complaint_id for complaint in boards.view(region, NOW).complaints]


# ---- the complaints on a region's board ----------------------------------------------------------


def test_a_regions_board_lists_only_its_own_open_complaints():
    here, there, done = case(), case(region_id=PIRKANMAA), case(resolved_at=NOW - minutes(1))
    boards = apply(Boards(), here, there, done)
    assert listed(boards, UUSIMAA) == [here.complaint_id]
    assert listed(boards, PIRKANMAA) == [there.complaint_id]
    assert listed(boards, "lappi") == []


def test_an_open_complaint_shows_who_has_it_its_deadlines_and_its_history():
    raised = case(
        assignee=Assignee(tier=Tier.coordinator), reason="acknowledge deadline passed at tier associate",
        acknowledged_at=NOW - minutes(2), acknowledge_by=None, breaches=(breach(),), pages=(PAGE,),
    )
    [shown] = apply(Boards(), raised).view(UUSIMAA, NOW).complaints
    assert (shown.complaint_id, shown.store_id) == (raised.complaint_id, KAMPPI)
    assert (shown.category, shown.severity, shown.mood, shown.channel) == ("service", "low", "calm", "in_store")
    assert shown.assignee == Assignee(tier=Tier.coordinator)
    assert shown.reason == "acknowledge deadline passed at tier associate"
    assert (shown.filed_at, shown.age_minutes) == (NOW - minutes(30), 30)
    assert (shown.acknowledged, shown.acknowledge_by, shown.resolve_by) == (True, None, raised.resolve_by)
    assert (shown.breaches, shown.breached_tiers, shown.paged) == (1, [Tier.associate], True)


@pytest.mark.parametrize(
    ("filed_ago", "age"),
    [(minutes(90.9), 90), (minutes(0), 0), (timedelta(seconds=59), 0), (minutes(-3), 0)],
    ids=["ninety minutes", "just now", "under a minute", "clock behind"],
)
def test_a_complaints_age_is_in_whole_minutes_and_never_negative(filed_ago, age):
    [shown] = apply(Boards(), case(filed_ago=filed_ago)).view(UUSIMAA, NOW).complaints
    assert shown.age_minutes == age


def test_the_board_never_shows_the_staff_member_a_complaint_is_about():
    boards = apply(Boards(), case(category="staff_conduct", staff_involved="emp-2001"))
    assert "emp-2001" not in boards.view(UUSIMAA, NOW).model_dump_json()


def test_breached_complaints_come_first_then_paged_ones_then_by_severity_then_oldest():
    expected = [
        case(breaches=(breach(), breach(Tier.coordinator))),
        case(breaches=(breach(),), filed_ago=minutes(10)),
        case(breaches=(breach(),), filed_ago=minutes(5)),
        case(pages=(PAGE,)),
        case(severity="critical"),
        case(severity="high"),
        case(severity="medium"),
        case(severity="low", filed_ago=minutes(50)),
        case(severity="low", filed_ago=minutes(40)),
    ]
    boards = apply(Boards(), *reversed(expected))
    assert listed(boards) == [each.complaint_id for each in expected]


def test_the_summary_counts_the_regions_open_complaints():
    boards = apply(
        Boards(),
        case(),
        case(severity="high", assignee=Assignee(tier=Tier.coordinator), breaches=(breach(),)),
        case(store_id=ISO_OMENA, severity="critical", category="staff_conduct", pages=(PAGE,),
             assignee=Assignee(tier=Tier.store_manager, staff_id=MANAGER)),
        case(store_id=ISO_OMENA, mood="hostile", pages=(PAGE,)),
        case(resolved_at=NOW, breaches=(breach(),), pages=(PAGE,)),
        case(region_id=PIRKANMAA, breaches=(breach(),), pages=(PAGE,)),
    )
    assert boards.view(UUSIMAA, NOW).summary == Summary(
        open=4,
        breached=1,
        paged=2,
        by_store={KAMPPI: 2, ISO_OMENA: 2},
        by_tier={"associate": 2, "coordinator": 1, "store_manager": 1},
        by_category={"service": 3, "staff_conduct": 1},
        by_severity={"low": 2, "high": 1, "critical": 1},
    )


def test_an_empty_board_counts_nothing():
    view = Boards().view(UUSIMAA, NOW)
    assert (view.region_id, view.as_of, view.complaints, view.problems) == (UUSIMAA, NOW, [], [])
    assert view.summary == Summary(open=0, breached=0, paged=0, by_store={}, by_tier={}, by_category={}, by_severity={})


# ---- the changelog ---------------------------------------------------------------------------------


def test_a_later_record_of_a_case_replaces_the_earlier():
    first = case()
    boards = apply(Boards(), first, first.acknowledged(NOW))
    [shown] = boards.view(UUSIMAA, NOW).complaints
    assert shown.acknowledged


def test_a_resolved_complaint_leaves_the_board_and_a_reopened_one_comes_back():
    first = case(breaches=(breach(),))
    boards = apply(Boards(), first, first.resolved(NOW))
    assert listed(boards) == []
    assert boards.view(UUSIMAA, NOW).summary.breached == 0
    apply(boards, first.resolved(NOW).reopened(RULES, NOW))
    assert listed(boards) == [first.complaint_id]


def test_a_deleted_case_leaves_the_board():
    kept, closed = case(), case()
    boards = apply(Boards(), kept, closed)
    boards.apply_case(closed.complaint_id.bytes, None)
    boards.apply_case(UUID(int=10**9).bytes, None)  # a delete of a case never seen changes nothing
    assert listed(boards) == [kept.complaint_id]
    assert boards.view(UUSIMAA, NOW).summary.open == 1


# ---- each site's last day --------------------------------------------------------------------------


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def day(*cases: Case, region: str = UUSIMAA) -> dict[str, list[tuple[int, int]]]:
    """Each site's (open, breached) samples on the region's board, oldest first."""
    return {
        site.store_id: [(sample.open, sample.breached) for sample in site.samples]
        for site in apply(Boards(), *cases).view(region, NOW).history
    }


def test_a_site_is_sampled_every_hour_of_the_last_day_and_last_now():
    [site] = apply(Boards(), case()).view(UUSIMAA, NOW).history
    assert [sample.at for sample in site.samples] == [NOW - hours(back) for back in range(HISTORY_HOURS - 1, -1, -1)]


def test_a_complaint_counts_as_open_from_its_filing():
    assert day(case(filed_ago=hours(2.5))) == {KAMPPI: [(0, 0)] * 21 + [(1, 0)] * 3}
    assert day(case(filed_ago=hours(30))) == {KAMPPI: [(1, 0)] * 24}


def test_a_complaint_counts_as_breached_from_its_first_breach_until_it_is_resolved():
    marks = (breach().model_copy(update={"at": NOW - hours(4.5)}), breach().model_copy(update={"at": NOW - hours(1.5)}))
    complaint = case(filed_ago=hours(6.5), breaches=marks, resolved_at=NOW - hours(0.5))
    assert day(complaint) == {KAMPPI: [(0, 0)] * 17 + [(1, 0)] * 2 + [(1, 1)] * 4 + [(0, 0)]}


def test_a_complaint_resolved_before_the_day_began_is_not_shown_nor_its_site():
    gone = case(filed_ago=hours(40), resolved_at=NOW - hours(23.5))
    assert day(gone, case(store_id=ISO_OMENA, filed_ago=hours(30))) == {ISO_OMENA: [(1, 0)] * 24}


def test_each_site_of_the_region_is_counted_on_its_own_in_the_order_of_its_name():
    assert day(
        case(store_id=KAMPPI), case(store_id=KAMPPI, breaches=(breach(),)), case(store_id=ISO_OMENA),
        case(region_id=PIRKANMAA, store_id="tre-koskikeskus"),
    ) == {ISO_OMENA: [(0, 0)] * 23 + [(1, 0)], KAMPPI: [(0, 0)] * 23 + [(2, 1)]}


def test_what_the_workers_clock_put_after_the_boards_now_counts_as_now():
    ahead = case(filed_ago=minutes(-2), breaches=(breach().model_copy(update={"at": NOW + minutes(15)}),))
    assert day(ahead) == {KAMPPI: [(0, 0)] * 23 + [(1, 1)]}
    assert day(case(filed_ago=hours(1.5), resolved_at=NOW + minutes(1))) == {KAMPPI: [(0, 0)] * 22 + [(1, 0), (0, 0)]}


def test_the_last_sample_is_the_board_as_it_is():
    boards = apply(
        Boards(), case(), case(breaches=(breach(),)), case(store_id=ISO_OMENA, pages=(PAGE,)),
        case(resolved_at=NOW - minutes(1), breaches=(breach(),)),
    )
    view = boards.view(UUSIMAA, NOW)
    now = {site.store_id: (site.samples[-1].open, site.samples[-1].breached) for site in view.history}
    assert now == {store: (count, 1 if store == KAMPPI else 0) for store, count in view.summary.by_store.items()}
    assert sum(breached for _, breached in now.values()) == view.summary.breached


def test_a_reopened_complaint_counts_as_open_from_its_filing():
    first = case(filed_ago=hours(2.5))
    assert day(first.resolved(NOW - hours(2)).reopened(RULES, NOW - hours(1))) == {KAMPPI: [(0, 0)] * 21 + [(1, 0)] * 3}


def test_a_board_without_complaints_has_no_history():
    assert Boards().view(UUSIMAA, NOW).history == []
    assert history([], NOW) == []


# ---- common problems and proposals -------------------------------------------------------------------


def example(event_class: type, **changes: Any):
    return event_class.model_validate({**event_class.model_config["json_schema_extra"]["examples"][0], **changes})


DETECTED = example(ProblemDetected)
ACKNOWLEDGED = example(ProblemAcknowledged)
PROPOSED = example(PolicyProposed)
DECIDED = example(PolicyDecided)
LIFE = [DETECTED, ACKNOWLEDGED, PROPOSED, DECIDED]
PROBLEM_ID = DETECTED.problem_id
ANOTHER_EVIDENCE = DETECTED.evidence.model_copy(update={"stores": [StoreCount(store_id=KAMPPI, count=99, baseline=0)]})


def coordinated(*events) -> Boards:
    boards = Boards()
    for event in events:
        boards.apply_coordination(event)
    return boards


def test_a_detected_problem_shows_on_its_regions_board_with_its_evidence():
    boards = coordinated(DETECTED)
    [problem] = boards.view(UUSIMAA, NOW).problems
    assert (problem.problem_id, problem.evidence, problem.detected_at) == (PROBLEM_ID, DETECTED.evidence, DETECTED.at)
    assert (problem.acknowledged_by, problem.proposal) == (None, None)
    assert boards.problem(UUSIMAA, PROBLEM_ID) == problem


def test_a_problem_shows_its_acknowledgement_proposal_and_decision():
    problem = coordinated(*LIFE).problem(UUSIMAA, PROBLEM_ID)
    assert (problem.acknowledged_by, problem.acknowledged_at) == (ACKNOWLEDGED.by, ACKNOWLEDGED.at)
    proposal = problem.proposal
    assert (proposal.proposal_id, proposal.title, proposal.proposal) == (
        PROPOSED.proposal_id, PROPOSED.title, PROPOSED.proposal,
    )
    assert (proposal.by, proposal.at) == (PROPOSED.by, PROPOSED.at)
    assert (proposal.status, proposal.rationale) == ("accepted", DECIDED.rationale)
    assert (proposal.decided_by, proposal.decided_at) == (DECIDED.by, DECIDED.at)


def test_a_proposal_not_yet_decided_is_proposed():
    proposal = coordinated(DETECTED, PROPOSED).problem(UUSIMAA, PROBLEM_ID).proposal
    assert (proposal.status, proposal.decided_by, proposal.decided_at) == ("proposed", None, None)


@pytest.mark.parametrize("upto", range(1, len(LIFE) + 1), ids=[type(event).__name__ for event in LIFE])
def test_applying_an_event_twice_changes_nothing(upto):
    once = coordinated(*LIFE[:upto]).view(UUSIMAA, NOW)
    twice = coordinated(*LIFE[:upto], LIFE[upto - 1]).view(UUSIMAA, NOW)
    assert twice == once


@pytest.mark.parametrize(
    "later",
    [
        example(ProblemDetected, at="2026-11-24T00:00:00Z", evidence=ANOTHER_EVIDENCE),
        example(ProblemAcknowledged, by="rc-uusimaa-2", at="2026-11-23T09:00:00Z"),
        example(PolicyProposed, proposal_id=UUID(int=7), title="Another proposal"),
        example(PolicyDecided, decision="rejected", rationale="Changed our minds", by="sm-0002"),
    ],
    ids=["detected again", "acknowledged by another", "proposed again", "decided again"],
)
def test_the_first_of_each_step_stands(later):
    once = coordinated(*LIFE).view(UUSIMAA, NOW)
    assert coordinated(*LIFE, later).view(UUSIMAA, NOW) == once


def test_a_decision_on_another_proposal_is_not_applied():
    other = example(PolicyDecided, proposal_id=UUID(int=7))
    assert coordinated(DETECTED, PROPOSED, other).problem(UUSIMAA, PROBLEM_ID).proposal.status == "proposed"


def test_a_problem_of_another_region_is_neither_found_nor_shown_there():
    theirs = example(ProblemDetected, region_id=PIRKANMAA, problem_id=UUID(int=5))
    boards = coordinated(DETECTED, theirs)
    assert boards.problem(UUSIMAA, theirs.problem_id) is None
    assert boards.problem(PIRKANMAA, PROBLEM_ID) is None
    assert [problem.problem_id for problem in boards.view(UUSIMAA, NOW).problems] == [PROBLEM_ID]
    assert [problem.problem_id for problem in boards.view(PIRKANMAA, NOW).problems] == [theirs.problem_id]


def test_the_newest_problem_is_shown_first():
    newer = example(ProblemDetected, problem_id=UUID(int=5), at="2026-11-24T00:00:00Z")
    boards = coordinated(DETECTED, newer)
    assert [problem.problem_id for problem in boards.view(UUSIMAA, NOW).problems] == [newer.problem_id, PROBLEM_ID]


# ---- waiting for a change --------------------------------------------------------------------------


def test_a_case_of_the_region_signals_its_change_and_a_case_of_another_region_does_not():
    boards = Boards()
    changed = boards.changed(UUSIMAA)
    apply(boards, case(region_id=PIRKANMAA))
    assert not changed.is_set()
    apply(boards, case())
    assert changed.is_set()


def test_a_deleted_case_signals_its_regions_change():
    closed = case()
    boards = apply(Boards(), closed)
    changed = boards.changed(UUSIMAA)
    boards.apply_case(closed.complaint_id.bytes, None)
    assert changed.is_set()


def test_a_coordination_event_of_the_region_signals_its_change_and_one_of_another_region_does_not():
    boards = Boards()
    changed = boards.changed(UUSIMAA)
    boards.apply_coordination(example(ProblemDetected, region_id=PIRKANMAA, problem_id=UUID(int=5)))
    assert not changed.is_set()
    boards.apply_coordination(DETECTED)
    assert changed.is_set()


def test_after_a_change_the_next_wait_is_for_the_next_change():
    boards = Boards()
    first = boards.changed(UUSIMAA)
    apply(boards, case())
    following = boards.changed(UUSIMAA)
    assert first.is_set() and not following.is_set()
    apply(boards, case())
    assert following.is_set()


def test_readers_waiting_together_share_one_signal():
    boards = Boards()
    assert boards.changed(UUSIMAA) is boards.changed(UUSIMAA)
    assert boards.changed(UUSIMAA) is not boards.changed(PIRKANMAA)
