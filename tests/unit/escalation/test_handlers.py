"""The escalation worker's behaviour without a broker: each handler is fed what the worker would
read, with dicts for its tables, and judged by the events it returns and the state it leaves."""

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import services.escalation
from services.escalation import handlers, tables
from services.escalation.domain.rules import load_rules
from services.escalation.domain.problems import Watch
from services.escalation.events import SOURCE, Observation, Observations, Observed, Outgoing, Tick, derived_id
from services.escalation.topics import OBSERVATIONS
from services.shared.events import complaints as c
from services.shared.events.coordination import ProblemDetected
from services.shared.events.envelope import Envelope, Event, decode, encode, wrap
from services.shared.events.escalations import (
    Assignee, DeadlineKind, EscalationBreached, EscalationPaged, EscalationRaised, EscalationReopened, EscalationRouted,
)
from services.shared.events.fields import MAX_ITEMS, Tier
from services.shared.events.returns import PolicyRule, ReturnApproved, ReturnRejected
from services.shared.events.roster import RosterPublished
from services.shared.topics import COORDINATION, ESCALATIONS

NOW = datetime(2026, 11, 23, 9, 15, tzinfo=UTC)
RULES = load_rules(Path(services.escalation.__file__).parent / "rules.toml")  # associate: 15 min to acknowledge
KEPT = timedelta(days=7)
PARTITION = 3
ASSOCIATE, COORDINATOR, MANAGER = "emp-1042", "coord-0003", "mgr-0007"
COMPLAINT_EXAMPLE = c.ComplaintFiled.model_config["json_schema_extra"]["examples"][0]
ROSTER_EXAMPLE = RosterPublished.model_config["json_schema_extra"]["examples"][0]
REJECTED_EXAMPLE = ReturnRejected.model_config["json_schema_extra"]["examples"][0]


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


class Reads(dict):
    """A table that remembers which keys were read one by one."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.read: list[bytes] = []

    def __getitem__(self, key: bytes) -> bytes:
        self.read.append(key)
        return super().__getitem__(key)


def worker(cases: dict | None = None, staffed: bool = True) -> tables.State:
    """The worker's state over dicts for tables; `staffed`, the store's roster has someone of each store tier on duty."""
    state = tables.State(RULES, tables.Rosters({}), {}, tables.Cases(Reads() if cases is None else cases, KEPT))
    if staffed:
        on_duty(state, (ASSOCIATE, Tier.associate), (COORDINATOR, Tier.coordinator), (MANAGER, Tier.store_manager))
    return state


def envelope(event: Event, at: datetime = NOW, source: str = "/services/complaints") -> Envelope:
    return wrap(event, source=source, time=at, id=uuid.uuid4())


def complaint(**changes: Any) -> c.ComplaintFiled:
    """A calm, low-severity service complaint, which goes to the associate and pages nobody."""
    calm = {**COMPLAINT_EXAMPLE, "category": "service", "severity": "low", "mood": "calm", "amount": None,
            "complaint_id": str(uuid.uuid4())}
    return c.ComplaintFiled.model_validate({**calm, **changes})


def on_duty(state: tables.State, *people: tuple[str, Tier]) -> None:
    shifts = [{"staff_id": staff_id, "role": role, "starts_at": NOW - timedelta(hours=1), "ends_at": NOW + timedelta(days=30)}
              for staff_id, role in people]
    roster = envelope(RosterPublished.model_validate({**ROSTER_EXAMPLE, "on_duty": shifts}), source="/services/scheduling")
    handlers.on_roster(state.rosters, roster, encode(roster))


def file(state: tables.State, filed: c.ComplaintFiled, at: datetime = NOW) -> list[Outgoing]:
    return handlers.escalate(state, envelope(filed, at), PARTITION)


def tick(state: tables.State, at: datetime, partition: int = PARTITION) -> list[Outgoing]:
    return handlers.escalate(state, envelope(Tick(partition=partition, now=at), at, SOURCE), partition)


def follow(state: tables.State, event_class: type[c.ComplaintEvent], filed: c.ComplaintFiled, at: datetime) -> list[Outgoing]:
    """The complaint's lifecycle event, through the worker; only a reopening publishes anything."""
    example = event_class.model_config["json_schema_extra"]["examples"][0]
    event = event_class.model_validate({**example, "complaint_id": str(filed.complaint_id), "at": at})
    outgoing = handlers.escalate(state, envelope(event, at), PARTITION)
    assert outgoing == [] or event_class is c.ComplaintReopened
    return outgoing


def kinds(outgoing: Iterable[Outgoing]) -> list[type[Event]]:
    return [type(out.event) for out in outgoing]


# ---- routing -------------------------------------------------------------------------------------


def test_a_filed_complaint_is_routed_its_case_opened_and_observed():
    state, filed = worker(), complaint()
    routed, observed = file(state, filed)
    assert routed.topic == ESCALATIONS and isinstance(routed.event, EscalationRouted)
    assert routed.event.assignee == Assignee(tier=Tier.associate, staff_id=ASSOCIATE)
    assert (routed.event.acknowledge_by, routed.event.resolve_by) == (NOW + minutes(15), NOW + minutes(240))
    assert observed.topic == OBSERVATIONS and observed.event.sample_id == filed.complaint_id
    case = state.cases.get(filed.complaint_id)
    assert (case.assignee, case.partition, case.open) == (routed.event.assignee, PARTITION, True)


def test_a_replayed_filing_is_not_routed_twice():
    state, filed = worker(), complaint()
    first = envelope(filed)
    handlers.escalate(state, first, PARTITION)
    case = state.cases.get(filed.complaint_id)
    assert handlers.escalate(state, first, PARTITION) == []
    assert handlers.escalate(state, envelope(filed, NOW + minutes(3)), PARTITION) == []
    assert state.cases.get(filed.complaint_id) == case


class Writes(dict):
    """A table that remembers every write, as a changelog would receive them."""

    def __init__(self) -> None:
        super().__init__()
        self.written: list[tuple[bytes, bytes]] = []

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.written.append((key, value))
        super().__setitem__(key, value)


def test_a_replayed_filing_keeps_its_case_again_for_a_changelog_that_missed_it():
    """The local store is written before its changelog: a worker killed in between has the case on
    its disk, not in the changelog, and a replay must write it again or a new disk never gets it."""
    state, filed = worker(cases=Writes()), complaint()
    first = envelope(filed)
    handlers.escalate(state, first, PARTITION)
    breached = handlers.escalate(state, envelope(Tick(partition=PARTITION, now=NOW + minutes(16))), PARTITION)
    assert [type(out.event) for out in breached] == [EscalationBreached, EscalationRaised]
    case = state.cases.get(filed.complaint_id)
    state.cases.table.written.clear()

    assert handlers.escalate(state, first, PARTITION) == []
    assert state.cases.table.written == [(filed.complaint_id.bytes, case.model_dump_json().encode())], \
        "the case as it stands now, breach and all, written again"
    assert state.cases.get(filed.complaint_id) == case


def test_the_on_duty_manager_from_the_stores_roster_is_paged_and_assigned():
    state = worker()
    paged, routed, _ = file(state, complaint(severity="critical"))
    assert isinstance(paged.event, EscalationPaged)
    assert paged.event.recipient == Assignee(tier=Tier.store_manager, staff_id=MANAGER)
    assert routed.event.assignee == Assignee(tier=Tier.store_manager, staff_id=MANAGER)


def test_another_stores_roster_is_not_used():
    _, routed, _ = file(worker(), complaint(severity="critical", store_id="esp-sello"))
    assert routed.event.assignee == Assignee(tier=Tier.regional_coordinator)


def test_without_a_roster_the_regional_coordinator_is_paged_and_assigned_and_the_reason_says_why():
    paged, routed, _ = file(worker(staffed=False), complaint(severity="critical"))
    assert paged.event.recipient == Assignee(tier=Tier.regional_coordinator)
    assert paged.event.reason == "severity critical; no store manager on duty"
    assert routed.event.assignee == Assignee(tier=Tier.regional_coordinator)
    assert routed.event.reason.endswith("no store_manager on duty: the region's coordinator")


# ---- derived event ids ---------------------------------------------------------------------------


def test_a_filing_replayed_after_a_crash_publishes_the_same_ids():
    """The worker crashed after sending but before its tables were written: it starts from nothing."""
    filed = envelope(complaint(severity="critical"))
    first, replayed = (handlers.escalate(worker(), filed, PARTITION) for _ in range(2))
    assert [out.id for out in first] == [out.id for out in replayed]
    assert [out.envelope() for out in first] == [out.envelope() for out in replayed]
    complaint_id = filed.data.complaint_id
    assert [out.id for out in first] == [
        derived_id(complaint_id, "paged"), derived_id(complaint_id, "routed"), derived_id(filed.id, "observed"),
    ]
    assert first[0].event.page_id == first[0].id


def test_a_tick_replayed_after_a_crash_publishes_the_same_ids():
    state, filed = worker(), complaint()
    file(state, filed)
    before = dict(state.cases.table)
    first = tick(state, NOW + minutes(15))
    replayed = tick(worker(cases=before), NOW + minutes(15))
    assert kinds(first) == [EscalationBreached, EscalationRaised]
    assert [out.id for out in first] == [out.id for out in replayed]


def test_each_breach_of_a_case_has_ids_of_its_own():
    state = worker()
    file(state, complaint())
    first = tick(state, NOW + minutes(15))  # the associate's acknowledge deadline
    second = tick(state, NOW + minutes(30))  # the coordinator's
    ids = [out.id for out in first + second]
    assert len(set(ids)) == 4


# ---- ticks ---------------------------------------------------------------------------------------


def test_a_tick_past_a_deadline_reports_the_breach_and_raises_the_case_one_tier():
    state, filed = worker(), complaint()
    file(state, filed)
    late = NOW + minutes(16)
    breached, raised = tick(state, late)
    assert breached.event == EscalationBreached(
        complaint_id=filed.complaint_id, store_id=filed.store_id, region_id=filed.region_id,
        tier=Tier.associate, deadline_kind=DeadlineKind.acknowledge, deadline=NOW + minutes(15), at=late,
    )
    assert raised.event.from_tier == Tier.associate
    assert raised.event.assignee == Assignee(tier=Tier.coordinator, staff_id=COORDINATOR)
    assert (raised.event.acknowledge_by, raised.event.resolve_by) == (late + minutes(15), late + minutes(240))
    assert (breached.time, raised.time) == (late, late)
    assert state.cases.get(filed.complaint_id).assignee == raised.event.assignee


def test_a_tick_before_every_deadline_publishes_nothing():
    state = worker()
    file(state, complaint())
    assert tick(state, NOW + minutes(14)) == []


def test_a_tick_checks_only_the_cases_of_its_own_partition():
    state = worker()
    file(state, complaint())
    assert tick(state, NOW + minutes(16), partition=PARTITION + 1) == []
    assert kinds(tick(state, NOW + minutes(16))) == [EscalationBreached, EscalationRaised]


def test_an_acknowledged_complaint_breaches_only_its_resolve_deadline():
    state, filed = worker(), complaint()
    file(state, filed)
    follow(state, c.ComplaintAcknowledged, filed, NOW + minutes(5))
    assert tick(state, NOW + minutes(20)) == []
    breached, _ = tick(state, NOW + minutes(240))
    assert breached.event.deadline_kind == DeadlineKind.resolve


def test_a_complaint_assigned_by_hand_is_the_assignees_at_their_tier_and_raised_from_there():
    state, filed = worker(), complaint()
    file(state, filed)
    assigned = c.ComplaintAssigned.model_validate({
        **c.ComplaintAssigned.model_config["json_schema_extra"]["examples"][0], "complaint_id": str(filed.complaint_id),
        "assignee": "crd-0009", "assignee_role": "coordinator", "at": NOW + minutes(5),
    })
    assert handlers.escalate(state, envelope(assigned, NOW + minutes(5)), PARTITION) == []
    case = state.cases.get(filed.complaint_id)
    assert case.assignee == Assignee(tier=Tier.coordinator, staff_id="crd-0009")
    assert (case.acknowledged_at, case.acknowledge_by, case.resolve_by) == (NOW + minutes(5), None, NOW + minutes(240))
    assert tick(state, NOW + minutes(20)) == [], "an assignment acknowledges"
    breached, raised = tick(state, NOW + minutes(240))
    assert (breached.event.tier, raised.event.from_tier) == (Tier.coordinator, Tier.coordinator)
    assert raised.event.assignee == Assignee(tier=Tier.store_manager, staff_id=MANAGER)


def test_an_assignment_made_before_a_raise_the_worker_saw_first_leaves_the_raise_standing():
    state, filed = worker(), complaint()
    file(state, filed)
    _, raised = tick(state, NOW + minutes(16))
    follow(state, c.ComplaintAssigned, filed, NOW + minutes(14))  # to mgr-0007, made before the raise
    assert state.cases.get(filed.complaint_id).assignee == raised.event.assignee == Assignee(
        tier=Tier.coordinator, staff_id=COORDINATOR
    )


# ---- table values that do not read back ------------------------------------------------------------

GARBAGE = b"\xff\x00 not a value"


def test_a_case_that_does_not_read_back_is_taken_as_absent_and_the_other_cases_still_breach():
    """A worker restored on a new disk from a changelog holding garbage still checks its deadlines."""
    state, filed = worker(cases={}), complaint()
    file(state, filed)
    state.cases.table[uuid.uuid4().bytes] = GARBAGE
    breached, raised = tick(state, NOW + minutes(16))
    assert (breached.event.complaint_id, raised.event.complaint_id) == (filed.complaint_id, filed.complaint_id)

    state.cases.table[filed.complaint_id.bytes] = GARBAGE
    assert tick(state, NOW + minutes(60)) == []
    follow(state, c.ComplaintAcknowledged, filed, NOW + minutes(61))  # its lifecycle changes nothing
    assert state.cases.get(filed.complaint_id) is None


def test_a_roster_that_does_not_read_back_leaves_nobody_on_duty():
    state = worker()
    state.rosters.table[COMPLAINT_EXAMPLE["store_id"].encode()] = GARBAGE
    routed, _ = file(state, complaint())
    assert routed.event.assignee == Assignee(tier=Tier.regional_coordinator)


def test_a_watch_that_does_not_read_back_starts_again():
    watches = tables.Watches({b"uusimaa|service|": GARBAGE})
    assert watches.get(b"uusimaa|service|") == Watch()


# ---- the due index -------------------------------------------------------------------------------


def test_a_tick_reads_only_the_cases_due():
    state = worker()
    early, later = complaint(), complaint()
    file(state, early)
    file(state, later, NOW + minutes(10))
    tick(state, NOW)  # the partition's first tick builds its index
    state.cases.table.read.clear()
    tick(state, NOW + minutes(16))
    assert state.cases.table.read == [early.complaint_id.bytes]


def test_a_case_kept_is_due_at_its_new_time():
    state, filed = worker(), complaint()
    file(state, filed)
    tick(state, NOW)
    follow(state, c.ComplaintAcknowledged, filed, NOW + minutes(5))
    assert state.cases.due.due(PARTITION, NOW + minutes(16)) == []
    assert state.cases.due.due(PARTITION, NOW + minutes(240)) == [filed.complaint_id.bytes]


def test_the_index_is_built_from_the_table_at_a_partitions_first_tick():
    """After a restart the worker's tables are restored; the index is not."""
    before, filed = worker(), complaint()
    file(before, filed)
    restarted = worker(cases=Reads(before.cases.table))
    assert not restarted.cases.due.built(PARTITION)
    assert kinds(tick(restarted, NOW + minutes(16))) == [EscalationBreached, EscalationRaised]
    assert restarted.cases.due.built(PARTITION)


def test_a_revoked_partitions_index_is_forgotten_and_built_again_from_the_table():
    state, filed = worker(), complaint()
    file(state, filed)
    tick(state, NOW)
    # While another worker owned the partition, the case changed (the table follows its changelog).
    case = state.cases.get(filed.complaint_id)
    state.cases.due.forget(PARTITION)
    changed = case.model_copy(update={"acknowledge_by": NOW + minutes(5)})
    state.cases.table[filed.complaint_id.bytes] = changed.model_dump_json().encode()
    assert not state.cases.due.built(PARTITION)
    breached, _ = tick(state, NOW + minutes(6))
    assert breached.event.deadline == NOW + minutes(5)


def test_forgetting_a_partition_leaves_the_others_indexes():
    index = tables.DueIndex()
    index.build([(1, b"a", NOW), (2, b"b", NOW)])
    index.forget(1)
    assert (index.built(1), index.due(2, NOW)) == (False, [b"b"])


# ---- resolution, reopening and forgetting --------------------------------------------------------


def test_a_resolved_complaint_breaches_nothing_and_is_forgotten_after_it_is_kept():
    state, filed = worker(), complaint()
    file(state, filed)
    follow(state, c.ComplaintResolved, filed, NOW + minutes(10))
    assert tick(state, NOW + minutes(20)) == []
    assert tick(state, NOW + minutes(10) + KEPT + timedelta(seconds=1)) == []
    assert state.cases.get(filed.complaint_id) is None
    follow(state, c.ComplaintReopened, filed, NOW + KEPT + timedelta(days=1))  # no case: nothing restarts
    assert state.cases.get(filed.complaint_id) is None


def test_a_filing_replayed_after_its_case_was_forgotten_is_not_routed_again():
    state, filed = worker(), complaint()
    first = envelope(filed)
    handlers.escalate(state, first, PARTITION)
    assert state.routed == {}, "while its case is kept, the case says it was routed"
    follow(state, c.ComplaintResolved, filed, NOW + minutes(10))
    tick(state, NOW + minutes(10) + KEPT + timedelta(seconds=1))
    assert state.cases.get(filed.complaint_id) is None
    assert handlers.escalate(state, first, PARTITION) == []
    assert state.cases.get(filed.complaint_id) is None


def test_a_roster_published_again_is_the_one_routing_reads():
    state = worker()
    assert [out.event.assignee.staff_id for out in file(state, complaint())[:1]] == [ASSOCIATE]
    on_duty(state, ("emp-9999", Tier.associate))
    assert [out.event.assignee.staff_id for out in file(state, complaint())[:1]] == ["emp-9999"]


def test_a_reopened_complaints_timers_restart_at_its_current_tier():
    state, filed = worker(), complaint()
    file(state, filed)
    tick(state, NOW + minutes(15))  # raised to the coordinator
    follow(state, c.ComplaintResolved, filed, NOW + minutes(20))
    reopen_at = NOW + timedelta(days=1)
    [reopened] = follow(state, c.ComplaintReopened, filed, reopen_at)
    case = state.cases.get(filed.complaint_id)
    assert case.open and case.assignee == Assignee(tier=Tier.coordinator, staff_id=COORDINATOR)
    assert (case.acknowledge_by, case.resolve_by) == (reopen_at + minutes(15), reopen_at + minutes(240))
    # Said on the escalations topic, for the complaint's queue and the assignee's notification.
    assert isinstance(reopened.event, EscalationReopened) and reopened.event.assignee == case.assignee
    assert (reopened.event.acknowledge_by, reopened.event.resolve_by) == (case.acknowledge_by, case.resolve_by)
    breached, raised = tick(state, reopen_at + minutes(15))
    assert breached.event.tier == Tier.coordinator
    assert raised.event.assignee == Assignee(tier=Tier.store_manager, staff_id=MANAGER)


def test_a_complaint_reopened_after_closing_within_the_kept_period_still_has_its_case():
    state, filed = worker(), complaint()
    file(state, filed)
    follow(state, c.ComplaintResolved, filed, NOW + minutes(10))
    follow(state, c.ComplaintClosed, filed, NOW + timedelta(days=1))
    assert tick(state, NOW + timedelta(days=6)) == []
    reopen_at = NOW + timedelta(days=6, hours=1)
    follow(state, c.ComplaintReopened, filed, reopen_at)
    breached, _ = tick(state, NOW + KEPT + timedelta(days=1))  # the reopened case was not forgotten
    assert breached.event.deadline == reopen_at + minutes(15)
    assert state.cases.get(filed.complaint_id).open


def test_events_of_a_complaint_the_worker_does_not_follow_change_nothing():
    state, filed = worker(), complaint()
    follow(state, c.ComplaintAcknowledged, filed, NOW)
    follow(state, c.CsatSubmitted, filed, NOW)
    assert state.cases.table == {}


# ---- common problems -----------------------------------------------------------------------------


def observe(watches: tables.Watches, outgoing: Iterable[Outgoing]) -> list[Outgoing]:
    """The worker's observations as the detector reads them back from their topic."""
    found = []
    for out in outgoing:
        if out.topic == OBSERVATIONS:
            found += handlers.on_observed(watches, decode(encode(out.envelope()), OBSERVATIONS.event_classes), RULES)
    return found


def test_complaints_of_one_kind_rising_at_three_stores_are_a_common_problem_reported_once():
    state, table = worker(), {}
    watches = tables.Watches(table)
    stores = ["hel-kamppi", "esp-iso-omena", "van-jumbo"]
    filed = [complaint(store_id=store, category="product_quality") for _ in range(3) for store in stores]
    detected = []
    for n, each in enumerate(filed):
        detected += observe(watches, file(state, each, NOW + minutes(n)))
    assert len(detected) == 1
    problem = detected[0]
    assert problem.topic == COORDINATION and isinstance(problem.event, ProblemDetected)
    assert {store.store_id for store in problem.event.evidence.stores} == set(stores)
    assert problem.id == derived_id(problem.event.problem_id, "detected")
    signature = "uusimaa|product_quality|"
    assert list(table) == [signature.encode()]
    assert observe(watches, file(state, complaint(category="product_quality"), NOW + minutes(10))) == []


def test_a_watch_is_kept_as_the_observations_left_it():
    table: dict[bytes, bytes] = {}
    watches = tables.Watches(table)
    observations = [
        Outgoing(OBSERVATIONS, Observed(region_id="uusimaa", store_id="hel-kamppi", category="service", sample_id=uuid.uuid4(),
                                        at=NOW), uuid.uuid4(), NOW)
        for _ in range(3)
    ]
    observe(watches, observations)
    ((key, value),) = table.items()
    assert tables.Watches({key: value}).get(key) == watches.get(key)
    assert len(watches.get(key).recent_ids) == 3


def test_observations_gathered_by_region_count_as_they_did_one_by_one():
    state, stores = worker(), ["hel-kamppi", "esp-iso-omena", "van-jumbo"]
    outgoing = [out for n in range(3) for store in stores
                for out in file(state, complaint(store_id=store, category="product_quality"), NOW + minutes(n))]
    outgoing += file(state, complaint(region_id="pirkanmaa", store_id="tre-koskikeskus"))
    one_by_one, gathered = observe(tables.Watches({}), outgoing), handlers.gathered(outgoing)

    records = [out for out in gathered if out.topic == OBSERVATIONS]
    assert [(out.event.region_id, len(out.event.observations)) for out in records] == [("uusimaa", 9), ("pirkanmaa", 1)]
    assert [out for out in gathered if out.topic != OBSERVATIONS] == [out for out in outgoing if out.topic != OBSERVATIONS]
    watches = tables.Watches({})
    detected = observe(watches, records)
    assert [(out.id, out.event) for out in detected] == [(out.id, out.event) for out in one_by_one]
    assert len(detected) == 1, "the same problem, under the same ids"
    assert observe(watches, records) == [], "a replayed record counts nothing again"


def test_a_complaints_routing_goes_out_at_once_and_its_observation_waits_to_be_gathered():
    outgoing = file(worker(), complaint(store_id="hel-kamppi", category="product_quality"))
    now, later = handlers.observed_apart(outgoing)
    assert [out.topic for out in now] == [out.topic for out in outgoing if out.topic != OBSERVATIONS]
    assert ESCALATIONS in {out.topic for out in now}
    assert [out.event for out in later] == [out.event for out in outgoing if out.topic == OBSERVATIONS] != []


def test_a_regions_observations_are_gathered_in_records_of_at_most_max_items():
    seen = Observed(region_id="uusimaa", store_id="hel-kamppi", category="service", sample_id=uuid.uuid4(), at=NOW)
    gathered = handlers.gathered([Outgoing(OBSERVATIONS, seen, uuid.uuid4(), NOW) for _ in range(MAX_ITEMS + 1)])
    assert [len(out.event.observations) for out in gathered] == [MAX_ITEMS, 1]


def test_a_record_of_observations_of_another_region_is_invalid():
    seen = Observed(region_id="uusimaa", store_id="hel-kamppi", category="service", sample_id=uuid.uuid4(), at=NOW)
    with pytest.raises(ValidationError):
        Observations(region_id="pirkanmaa", observations=[Observation(id=uuid.uuid4(), observed=seen)])


def test_each_rule_that_rejected_a_return_is_observed_under_an_id_of_its_own():
    rejected = envelope(ReturnRejected.model_validate(
        {**REJECTED_EXAMPLE, "rules": [PolicyRule.return_window, PolicyRule.receipt_required]}
    ))
    outgoing = handlers.on_return(rejected)
    assert [(out.topic, out.event.policy_rule) for out in outgoing] == [
        (OBSERVATIONS, PolicyRule.return_window), (OBSERVATIONS, PolicyRule.receipt_required),
    ]
    assert [out.id for out in outgoing] == [derived_id(rejected.id, rule) for rule in rejected.data.rules]
    assert all(out.event.category == c.Category.return_refund_exchange for out in outgoing)


def test_other_return_events_are_not_observed():
    example = ReturnApproved.model_config["json_schema_extra"]["examples"][0]
    assert handlers.on_return(envelope(ReturnApproved.model_validate(example))) == []
