"""A week's demand from the complaints and returns counted in each hour of the week: the load averaged
over the last complete weeks, one more person per full `events_per_person`, busy when well above usual."""

from datetime import date

from services.scheduling.domain.demand import DemandRule, HourDemand, demand_of, history

RULE = DemandRule(weeks=4, base_people=2, events_per_person=4.0, busy_factor=2.0)
MONDAY_TO_FRIDAY_9_TO_17 = [(day, hour) for day in range(5) for hour in range(9, 17)]


def test_without_any_load_every_open_hour_needs_the_base_staffing():
    demand = demand_of({}, MONDAY_TO_FRIDAY_9_TO_17, RULE)

    assert set(demand) == set(MONDAY_TO_FRIDAY_9_TO_17)
    assert set(demand.values()) == {HourDemand(load=0.0, people=2, busy=False)}


def test_the_load_is_the_average_over_the_weeks_and_each_full_events_per_person_adds_one_person():
    counts = {(1, 18): 16, (1, 17): 15, (4, 12): 33}  # over 4 weeks: 4, 3.75 and 8.25 an hour; usual 0.32

    demand = demand_of(counts, [(day, hour) for day in range(5) for hour in range(9, 19)], RULE)

    assert demand[1, 18] == HourDemand(load=4.0, people=3, busy=True)
    assert demand[1, 17] == HourDemand(load=3.75, people=2, busy=False)
    assert demand[4, 12] == HourDemand(load=8.25, people=4, busy=True)
    assert demand[0, 9] == HourDemand(load=0.0, people=2, busy=False)


def test_an_hour_given_more_people_is_busy_only_when_well_above_the_sites_usual():
    """A site loaded evenly needs more people every hour, but no hour is busy."""
    even = demand_of({slot: 20 for slot in MONDAY_TO_FRIDAY_9_TO_17}, MONDAY_TO_FRIDAY_9_TO_17, RULE)
    assert {hour.people for hour in even.values()} == {3} and not any(hour.busy for hour in even.values())

    not_twice = {**{slot: 20 for slot in MONDAY_TO_FRIDAY_9_TO_17}, (4, 16): 40}  # usual 5.125 an hour, Friday 16 10
    assert not any(hour.busy for hour in demand_of(not_twice, MONDAY_TO_FRIDAY_9_TO_17, RULE).values())

    rush = {**{slot: 20 for slot in MONDAY_TO_FRIDAY_9_TO_17}, (4, 16): 48}  # usual 5.175, Friday 16 12
    demand = demand_of(rush, MONDAY_TO_FRIDAY_9_TO_17, RULE)
    assert [slot for slot, hour in demand.items() if hour.busy] == [(4, 16)]
    assert demand[4, 16].people == 5


def test_events_in_closed_hours_do_not_count():
    demand = demand_of({(6, 12): 100, (0, 9): 8}, [(0, 9), (0, 10)], RULE)

    assert set(demand) == {(0, 9), (0, 10)}
    assert demand[0, 9] == HourDemand(load=2.0, people=2, busy=False)


def test_the_weeks_are_the_complete_ones_before_the_week_or_before_the_current_one():
    this_week = date(2027, 3, 1)

    assert history(date(2027, 3, 15), this_week, 2) == [date(2027, 2, 22), date(2027, 2, 15)]
    assert history(this_week, this_week, 2) == [date(2027, 2, 22), date(2027, 2, 15)]
    assert history(date(2027, 2, 15), this_week, 1) == [date(2027, 2, 8)]


def test_no_open_hours_no_demand():
    assert demand_of({(0, 9): 4}, [], RULE) == {}
