"""A region's live board, built from the worker's cases changelog (into a read model, here on SQLite)
and the coordination topic: its open complaints in the order to work them, their counts, each site's
open and breached complaints over the last day, and its common problems with their proposals."""

import dataclasses
from datetime import timedelta
from typing import Any
from pathlib import Path
from uuid import UUID

import pytest
from aiokafka.structs import ConsumerRecord

import services.escalation
from services.escalation.boards import changelog
from services.escalation.boards.board import HISTORY_HOURS, Boards, Summary, history
from services.escalation.boards.store import cases as store
from services.escalation.boards.store.models import Base
from services.escalation.domain.cases import Case
from services.escalation.domain.rules import load_rules
from services.escalation.topics import CASES_CHANGELOG
from services.shared.events.coordination import (
    PolicyDecided, PolicyProposed, ProblemAcknowledged, ProblemDetected, StoreCount,
)
from services.shared.events.escalations import Assignee
from services.shared.db import make_engine, sessions
from services.shared.events.fields import Tier
from tests.support.boards import (
    ISO_OMENA, KAMPPI, MANAGER, NOW, PAGE, PIRKANMAA, UUSIMAA, breach, case, minutes, record, tombstone,
)

RULES = load_rules(Path(services.escalation.__file__).parent / "rules.toml").chain
LIMIT = 200


@pytest.fixture
async def new_read_model(tmp_path):
    """Makes empty read models, each a SQLite file of its own."""
    engines = []

    async def made():
        engines.append(engine := make_engine(f"sqlite:///{tmp_path}/boards-{len(engines)}.db"))
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        return sessions(engine)

    yield made
    for engine in engines:
        await engine.dispose()


@pytest.fixture
async def database(new_read_model):
    return await new_read_model()


@pytest.fixture
def boards(database) -> Boards:
    return Boards(database)


async def applied(boards: Boards, *changes: store.Change) -> Boards:
    await boards.apply_cases(changes, {0: changes[-1].offset + 1})
    return boards


async def apply(boards: Boards, *cases: Case) -> Boards:
    """Applies each case as the changelog record the worker's table writes, one transaction each."""
    for each in cases:
        await applied(boards, record(each))
    return boards


async def view(boards: Boards, region: str = UUSIMAA, limit: int = LIMIT, after: str | None = None):
    return await boards.view(region, NOW, limit, after)


async def listed(boards: Boards, region: str = UUSIMAA) -> list[UUID]:
    return [complaint.complaint_id for complaint in (await view(boards, region)).complaints]


# ---- the complaints on a region's board ----------------------------------------------------------


async def test_a_regions_board_lists_only_its_own_open_complaints(boards):
    here, there, done = case(), case(region_id=PIRKANMAA), case(resolved_at=NOW - minutes(1))
    await apply(boards, here, there, done)
    assert await listed(boards, UUSIMAA) == [here.complaint_id]
    assert await listed(boards, PIRKANMAA) == [there.complaint_id]
    assert await listed(boards, "lappi") == []


async def test_an_open_complaint_shows_who_has_it_its_deadlines_and_its_history(boards):
    raised = case(
        assignee=Assignee(tier=Tier.coordinator), reason="acknowledge deadline passed at tier associate",
        acknowledged_at=NOW - minutes(2), acknowledge_by=None, breaches=(breach(),), pages=(PAGE,),
    )
    [shown] = (await view(await apply(boards, raised))).complaints
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
async def test_a_complaints_age_is_in_whole_minutes_and_never_negative(boards, filed_ago, age):
    [shown] = (await view(await apply(boards, case(filed_ago=filed_ago)))).complaints
    assert shown.age_minutes == age


async def test_the_board_never_shows_the_staff_member_a_complaint_is_about(boards):
    await apply(boards, case(category="staff_conduct", staff_involved="emp-2001"))
    assert "emp-2001" not in (await view(boards)).model_dump_json()


async def test_breached_complaints_come_first_then_paged_ones_then_by_severity_then_oldest(boards):
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
    await apply(boards, *reversed(expected))
    assert await listed(boards) == [each.complaint_id for each in expected]


async def test_the_summary_counts_the_regions_open_complaints(boards):
    await apply(
        boards,
        case(),
        case(severity="high", assignee=Assignee(tier=Tier.coordinator), breaches=(breach(),)),
        case(store_id=ISO_OMENA, severity="critical", category="staff_conduct", pages=(PAGE,),
             assignee=Assignee(tier=Tier.store_manager, staff_id=MANAGER)),
        case(store_id=ISO_OMENA, mood="hostile", pages=(PAGE,)),
        case(resolved_at=NOW, breaches=(breach(),), pages=(PAGE,)),
        case(region_id=PIRKANMAA, breaches=(breach(),), pages=(PAGE,)),
    )
    assert (await view(boards)).summary == Summary(
        open=4,
        breached=1,
        paged=2,
        by_store={KAMPPI: 2, ISO_OMENA: 2},
        by_tier={"associate": 2, "coordinator": 1, "store_manager": 1},
        by_category={"service": 3, "staff_conduct": 1},
        by_severity={"low": 2, "high": 1, "critical": 1},
    )


async def test_an_empty_board_counts_nothing(boards):
    empty = await view(boards)
    assert (empty.region_id, empty.as_of, empty.complaints, empty.problems) == (UUSIMAA, NOW, [], [])
    assert empty.summary == Summary(open=0, breached=0, paged=0, by_store={}, by_tier={}, by_category={}, by_severity={})


# ---- the changelog ---------------------------------------------------------------------------------


async def test_a_later_record_of_a_case_replaces_the_earlier(boards):
    first = case()
    await apply(boards, first, first.acknowledged(NOW))
    [shown] = (await view(boards)).complaints
    assert shown.acknowledged


async def test_a_resolved_complaint_leaves_the_board_and_a_reopened_one_comes_back(boards):
    first = case(breaches=(breach(),))
    await apply(boards, first, first.resolved(NOW))
    assert await listed(boards) == []
    assert (await view(boards)).summary.breached == 0
    await apply(boards, first.resolved(NOW).reopened(RULES, NOW))
    assert await listed(boards) == [first.complaint_id]


async def test_a_deleted_case_leaves_the_board(boards):
    kept, closed = case(), case()
    await apply(boards, kept, closed)
    await applied(boards, tombstone(closed.complaint_id))
    await applied(boards, tombstone(UUID(int=10**9)))  # a delete of a case never seen changes nothing
    assert await listed(boards) == [kept.complaint_id]
    assert (await view(boards)).summary.open == 1


async def test_the_list_is_bounded_and_pages_on_in_board_order(boards):
    cases = [case(filed_ago=minutes(60 - n), severity=("critical", "low")[n % 2], breaches=(breach(),) * (n % 3 == 0))
             for n in range(7)]
    await apply(boards, *cases)
    every = await listed(boards)
    pages, after = [], None
    while True:
        page = await view(boards, limit=3, after=after)
        assert page.summary.open == 7 and len(page.complaints) <= 3
        pages.append([complaint.complaint_id for complaint in page.complaints])
        if (after := page.next) is None:
            break
    assert [len(page) for page in pages] == [3, 3, 1]
    assert sum(pages, []) == every and len(set(every)) == 7


async def test_a_board_that_fits_its_list_has_no_next_page(boards):
    await apply(boards, case(), case())
    assert (await view(boards, limit=2)).next is None


async def test_a_cursor_the_board_did_not_give_is_refused(boards):
    with pytest.raises(store.InvalidCursor):
        await view(boards, after="not-a-cursor")


async def test_the_same_changelog_applied_twice_makes_the_same_board(new_read_model):
    first = case(breaches=(breach(),))
    changelog = [record(first), record(case()), record(first.resolved(NOW)), record(case(store_id=ISO_OMENA)),
                 tombstone(first.complaint_id), record(case(pages=(PAGE,)))]
    once, twice = Boards(await new_read_model()), Boards(await new_read_model())
    await applied(once, *changelog)
    for batch in (changelog[:4], changelog, changelog[2:], changelog):  # replays, whole and in part
        await applied(twice, *batch)
    assert await view(twice) == await view(once)


async def test_a_record_before_the_stored_offset_is_not_applied_again(boards):
    """As when another replica on the same database has applied the partition further."""
    first = case()
    early, late = record(first), record(first.resolved(NOW))
    await applied(boards, late)
    await applied(boards, early)
    assert await listed(boards) == []


async def test_a_restart_resumes_from_the_stored_offsets(database):
    changelog = [record(case()), record(case())]
    await applied(Boards(database), *changelog)
    assert await store.start(database, range(3)) == {0: changelog[-1].offset + 1, 1: 0, 2: 0}


async def test_a_record_that_is_not_a_case_is_skipped_and_read_past(boards):
    readable = record(case())
    unreadable = ConsumerRecord(CASES_CHANGELOG, 0, readable.offset + 1, 0, 0, UUID(int=1).bytes, b"{}", None, 16, 2, [])
    assert changelog._change(unreadable) is None
    assert changelog._change(dataclasses.replace(unreadable, key=b"not a complaint id")) is None
    await boards.apply_cases([readable], {0: unreadable.offset + 1})
    assert (await store.start(boards.sessions, [0]))[0] == unreadable.offset + 1


# ---- each site's last day --------------------------------------------------------------------------


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


@pytest.fixture
def day(new_read_model):
    async def samples(*cases: Case) -> dict[str, list[tuple[int, int]]]:
        """Each site's (open, breached) samples on the region's board with only these cases, oldest first."""
        boards = await apply(Boards(await new_read_model()), *cases)
        return {
            site.store_id: [(sample.open, sample.breached) for sample in site.samples]
            for site in (await view(boards)).history
        }

    return samples


async def test_a_site_is_sampled_every_hour_of_the_last_day_and_last_now(boards):
    [site] = (await view(await apply(boards, case()))).history
    assert [sample.at for sample in site.samples] == [NOW - hours(back) for back in range(HISTORY_HOURS - 1, -1, -1)]


async def test_a_complaint_counts_as_open_from_its_filing(day):
    assert await day(case(filed_ago=hours(2.5))) == {KAMPPI: [(0, 0)] * 21 + [(1, 0)] * 3}
    assert await day(case(filed_ago=hours(30))) == {KAMPPI: [(1, 0)] * 24}


async def test_a_complaint_counts_as_breached_from_its_first_breach_until_it_is_resolved(day):
    marks = (breach().model_copy(update={"at": NOW - hours(4.5)}), breach().model_copy(update={"at": NOW - hours(1.5)}))
    complaint = case(filed_ago=hours(6.5), breaches=marks, resolved_at=NOW - hours(0.5))
    assert await day(complaint) == {KAMPPI: [(0, 0)] * 17 + [(1, 0)] * 2 + [(1, 1)] * 4 + [(0, 0)]}


async def test_a_complaint_resolved_before_the_day_began_is_not_shown_nor_its_site(day):
    gone = case(filed_ago=hours(40), resolved_at=NOW - hours(23.5))
    assert await day(gone, case(store_id=ISO_OMENA, filed_ago=hours(30))) == {ISO_OMENA: [(1, 0)] * 24}


async def test_each_site_of_the_region_is_counted_on_its_own_in_the_order_of_its_name(day):
    assert await day(
        case(store_id=KAMPPI), case(store_id=KAMPPI, breaches=(breach(),)), case(store_id=ISO_OMENA),
        case(region_id=PIRKANMAA, store_id="tre-koskikeskus"),
    ) == {ISO_OMENA: [(0, 0)] * 23 + [(1, 0)], KAMPPI: [(0, 0)] * 23 + [(2, 1)]}


async def test_what_the_workers_clock_put_after_the_boards_now_counts_as_now(day):
    ahead = case(filed_ago=minutes(-2), breaches=(breach().model_copy(update={"at": NOW + minutes(15)}),))
    assert await day(ahead) == {KAMPPI: [(0, 0)] * 23 + [(1, 1)]}
    assert await day(case(filed_ago=hours(1.5), resolved_at=NOW + minutes(1))) == {KAMPPI: [(0, 0)] * 22 + [(1, 0), (0, 0)]}


async def test_the_last_sample_is_the_board_as_it_is(boards):
    await apply(
        boards, case(), case(breaches=(breach(),)), case(store_id=ISO_OMENA, pages=(PAGE,)),
        case(resolved_at=NOW - minutes(1), breaches=(breach(),)),
    )
    board = await view(boards)
    now = {site.store_id: (site.samples[-1].open, site.samples[-1].breached) for site in board.history}
    assert now == {store: (count, 1 if store == KAMPPI else 0) for store, count in board.summary.by_store.items()}
    assert sum(breached for _, breached in now.values()) == board.summary.breached


async def test_a_reopened_complaint_counts_as_open_from_its_filing(day):
    first = case(filed_ago=hours(2.5))
    assert await day(first.resolved(NOW - hours(2)).reopened(RULES, NOW - hours(1))) == {KAMPPI: [(0, 0)] * 21 + [(1, 0)] * 3}


async def test_a_board_without_complaints_has_no_history(boards):
    assert (await view(boards)).history == []
    assert history([], {}, NOW) == []


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


def coordinated(database, *events) -> Boards:
    boards = Boards(database)
    for event in events:
        boards.apply_coordination(event)
    return boards


async def test_a_detected_problem_shows_on_its_regions_board_with_its_evidence(database):
    boards = coordinated(database, DETECTED)
    [problem] = (await view(boards)).problems
    assert (problem.problem_id, problem.evidence, problem.detected_at) == (PROBLEM_ID, DETECTED.evidence, DETECTED.at)
    assert (problem.acknowledged_by, problem.proposal) == (None, None)
    assert boards.problem(UUSIMAA, PROBLEM_ID) == problem


async def test_a_problem_shows_its_acknowledgement_proposal_and_decision(database):
    problem = coordinated(database, *LIFE).problem(UUSIMAA, PROBLEM_ID)
    assert (problem.acknowledged_by, problem.acknowledged_at) == (ACKNOWLEDGED.by, ACKNOWLEDGED.at)
    proposal = problem.proposal
    assert (proposal.proposal_id, proposal.title, proposal.proposal) == (
        PROPOSED.proposal_id, PROPOSED.title, PROPOSED.proposal,
    )
    assert (proposal.by, proposal.at) == (PROPOSED.by, PROPOSED.at)
    assert (proposal.status, proposal.rationale) == ("accepted", DECIDED.rationale)
    assert (proposal.decided_by, proposal.decided_at) == (DECIDED.by, DECIDED.at)


async def test_a_proposal_not_yet_decided_is_proposed(database):
    proposal = coordinated(database, DETECTED, PROPOSED).problem(UUSIMAA, PROBLEM_ID).proposal
    assert (proposal.status, proposal.decided_by, proposal.decided_at) == ("proposed", None, None)


@pytest.mark.parametrize("upto", range(1, len(LIFE) + 1), ids=[type(event).__name__ for event in LIFE])
async def test_applying_an_event_twice_changes_nothing(database, upto):
    once = await view(coordinated(database, *LIFE[:upto]))
    twice = await view(coordinated(database, *LIFE[:upto], LIFE[upto - 1]))
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
async def test_the_first_of_each_step_stands(database, later):
    once = await view(coordinated(database, *LIFE))
    assert await view(coordinated(database, *LIFE, later)) == once


async def test_a_decision_on_another_proposal_is_not_applied(database):
    other = example(PolicyDecided, proposal_id=UUID(int=7))
    assert coordinated(database, DETECTED, PROPOSED, other).problem(UUSIMAA, PROBLEM_ID).proposal.status == "proposed"


async def test_a_problem_of_another_region_is_neither_found_nor_shown_there(database):
    theirs = example(ProblemDetected, region_id=PIRKANMAA, problem_id=UUID(int=5))
    boards = coordinated(database, DETECTED, theirs)
    assert boards.problem(UUSIMAA, theirs.problem_id) is None
    assert boards.problem(PIRKANMAA, PROBLEM_ID) is None
    assert [problem.problem_id for problem in (await view(boards)).problems] == [PROBLEM_ID]
    assert [problem.problem_id for problem in (await view(boards, PIRKANMAA)).problems] == [theirs.problem_id]


async def test_the_newest_problem_is_shown_first(database):
    newer = example(ProblemDetected, problem_id=UUID(int=5), at="2026-11-24T00:00:00Z")
    boards = coordinated(database, DETECTED, newer)
    assert [problem.problem_id for problem in (await view(boards)).problems] == [newer.problem_id, PROBLEM_ID]


# ---- waiting for a change --------------------------------------------------------------------------


async def test_a_case_of_the_region_signals_its_change_and_a_case_of_another_region_does_not(boards):
    changed = boards.changed(UUSIMAA)
    await apply(boards, case(region_id=PIRKANMAA))
    assert not changed.is_set()
    await apply(boards, case())
    assert changed.is_set()


async def test_a_deleted_case_signals_its_regions_change(boards):
    closed = case()
    await apply(boards, closed)
    changed = boards.changed(UUSIMAA)
    await applied(boards, tombstone(closed.complaint_id))
    assert changed.is_set()


async def test_a_coordination_event_of_the_region_signals_its_change_and_one_of_another_region_does_not(boards):
    changed = boards.changed(UUSIMAA)
    boards.apply_coordination(example(ProblemDetected, region_id=PIRKANMAA, problem_id=UUID(int=5)))
    assert not changed.is_set()
    boards.apply_coordination(DETECTED)
    assert changed.is_set()


async def test_after_a_change_the_next_wait_is_for_the_next_change(boards):
    first = boards.changed(UUSIMAA)
    await apply(boards, case())
    following = boards.changed(UUSIMAA)
    assert first.is_set() and not following.is_set()
    await apply(boards, case())
    assert following.is_set()


async def test_readers_waiting_together_share_one_signal(boards):
    assert boards.changed(UUSIMAA) is boards.changed(UUSIMAA)
    assert boards.changed(UUSIMAA) is not boards.changed(PIRKANMAA)
