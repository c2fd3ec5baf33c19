"""A site's week solved with CP-SAT: shifts that cover each open hour's demand under the staffing
rules, or the rules that conflict, named so that the site manager can act on them.

The model works in the site's wall-clock hours: slot (day, hour) is the local hour [hour:00, hour+1:00)
of that day. Each slot's real length comes from the time zone, so on the night the clocks go forward
the missing hour has no length (nobody covers it, nobody is paid for it) and on the night they go back
the repeated hour lasts two. Shift lengths, weekly hours and rest are measured in real minutes.

A shift starts in a day's opening hours and ends by its closing or, when the site stays open through
midnight, by the next day's closing (a night shift 22–06); it is the shift of the day it starts on.
Shifts a person already has (booked: the previous week's last one, shifts at other sites, a manager's
hand-made drafts here) are kept as they are; the new ones plan around them.

A week is solved in three steps. A cover plan first counts how many shifts of each kind (day, start,
end) give every open hour its demand with the least overstaffing — a small model without people in
it. A start then gives those shifts to people (a manager-level person and the skills along
the week first, then whoever fits with most of their contract left, and a repair of any hour still
short over every shift anyone could work). The full model, narrowed to the shift kinds of the plan and
the start, improves it within the work limit (a small week is searched over every possible shift instead, see
`SolverSettings.whole_search_options`). A start that meets every rule is already a schedule, so a week
gets one even when the search finds nothing in time; a week the start cannot complete is searched over
every possible shift, and one that is infeasible is explained.

Objective, in falling order of weight (see `Rules`): staff-hours above the demand (a draft that does
not overstaff), minutes short of each person's contracted hours, and the fairness spread — the most
evening shifts anyone gets minus the fewest, plus the same for weekend shifts, over the staff who can
work such shifts at all.
"""

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from copy import copy
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from ortools.sat.python import cp_model

from services.shared.events.fields import Tier

DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
WEEKEND = (5, 6)


class Skill(StrEnum):
    register = "register"  # cash, credit, debit and gift card
    returns = "returns"  # returns, refunds and exchanges
    de_escalation = "de_escalation"
    promotions = "promotions"


@dataclass(frozen=True)
class DayOpening:
    """Local hours [opens, closes) of one day; closes may be 24 (midnight)."""

    opens: int
    closes: int

    def __post_init__(self) -> None:
        if not 0 <= self.opens < self.closes <= 24:
            raise ValueError(f"opening hours {self.opens}–{self.closes}: need 0 <= opens < closes <= 24")


@dataclass(frozen=True)
class SiteWeek:
    site_id: str
    time_zone: str
    starts_on: date  # a Monday
    opening: tuple[DayOpening | None, ...]  # Monday to Sunday; None: closed (a holiday)

    def __post_init__(self) -> None:
        if self.starts_on.weekday() != 0:
            raise ValueError(f"starts_on {self.starts_on} is a {DAYS[self.starts_on.weekday()]}, not a Monday")
        if len(self.opening) != 7:
            raise ValueError(f"opening has {len(self.opening)} days, not 7")
        ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class Absence:
    """Unavailability or leave, in the site's local wall-clock time (naive datetimes), [starts, ends)."""

    starts: datetime
    ends: datetime


@dataclass(frozen=True)
class Booked:
    """A shift the person already has, kept as it is: their new shifts keep the rest from it and are not
    on its day. One starting in the week counts toward their weekly hours, and one at this site (`here`)
    toward the cover of the hours it spans."""

    starts_at: datetime  # aware
    ends_at: datetime
    here: bool = False


@dataclass(frozen=True)
class StaffMember:
    staff_id: str
    role: Tier
    skills: frozenset[Skill]
    contracted_hours: int
    max_hours: int
    absences: tuple[Absence, ...] = ()
    booked: tuple[Booked, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.contracted_hours <= self.max_hours:
            raise ValueError(f"{self.staff_id}: contracted_hours {self.contracted_hours} must be 0..max_hours {self.max_hours}")


@dataclass(frozen=True)
class Demand:
    """People needed per open slot: (day, local hour) -> people, day 0 = Monday. Unlisted open hours need
    nobody beyond the manager-level and skill cover; hours the site is closed need nobody. A busy slot
    also needs a de-escalation-trained person."""

    people: Mapping[tuple[int, int], int]
    busy: frozenset[tuple[int, int]] = frozenset()

    def skills(self, day: int, hour: int) -> tuple[Skill, ...]:
        """The skills someone on duty in the slot must have."""
        busy = (Skill.de_escalation,) if (day, hour) in self.busy else ()
        return (Skill.register, Skill.returns, *busy)


@dataclass(frozen=True)
class Rules:
    min_shift_hours: int = 4
    max_shift_hours: int = 8
    min_rest_hours: int = 11
    evening_after: int = 18  # a shift ending after this local hour is an evening shift
    manager_level: frozenset[Tier] = frozenset({Tier.coordinator, Tier.store_manager})  # the site tiers above associate
    overstaffing_weight: int = 1000  # per staff-hour above the demand
    shortfall_weight: int = 1  # per minute short of a contract
    fairness_weight: int = 30  # per shift of spread in evenings, and in weekends


@dataclass(frozen=True)
class SolverSettings:
    # One worker stopped by CP-SAT's deterministic work units gives a week the same schedule on any
    # machine under any load; more workers search wider but may answer differently from run to run.
    # The wall-clock limit is only a safety net.
    workers: int = 1
    seed: int = 0
    work_limit: float = 10.0
    time_limit_seconds: float = 120.0
    # A week with more possible shifts than this (a 40-person store has about 9,000, a 200-person call
    # centre round the clock 97,000) is searched only over the shift kinds of its cover plan and start,
    # with the start as a hint: the whole model does not even finish presolving within the work limit.
    # A smaller week is searched whole, where the hint would only hold the search near the start.
    whole_search_options: int = 20_000


@dataclass(frozen=True)
class DraftShift:
    staff_id: str
    starts_at: datetime  # aware, in the site's time zone
    ends_at: datetime


@dataclass(frozen=True)
class Schedule:
    site_id: str
    shifts: tuple[DraftShift, ...]
    proven_best: bool


@dataclass(frozen=True)
class Infeasible:
    site_id: str
    conflicts: tuple[str, ...]  # plain words, e.g. "Tuesday 18–19: demand 3, only 2 available"


@dataclass(frozen=True)
class _Option:
    """One shift a staff member could work: local hours [start, end) of the day it starts on (past 24: into
    the next day), and minutes from the week's start."""

    staff: int
    day: int
    start: int
    end: int
    starts_min: int
    ends_min: int

    @property
    def minutes(self) -> int:
        return self.ends_min - self.starts_min

    @property
    def kind(self) -> tuple[int, int, int]:
        return self.day, self.start, self.end


class _Week:
    """The week's open slots and every shift each staff member could work in it."""

    def __init__(self, week: SiteWeek, staff: Sequence[StaffMember], rules: Rules) -> None:
        self.week, self.staff, self.rules = week, staff, rules
        self.zone = ZoneInfo(week.time_zone)
        self.origin = self.instant(0, 0)
        self._minutes = {
            (day, hour): int((self.instant(day, hour) - self.origin).total_seconds()) // 60
            for day in range(7) for hour in range(25)
        }
        self.slots = {
            (day, hour): (self.minute(day, hour), self.minute(day, hour + 1))
            for day, hours in enumerate(week.opening) if hours is not None
            for hour in range(hours.opens, hours.closes)
            if self.minute(day, hour + 1) > self.minute(day, hour)
        }
        self.kept: dict[tuple[int, int], list[int]] = defaultdict(list)  # staff whose booked shift here spans the slot
        self.booked_minutes = [0] * len(staff)  # of booked shifts starting in the week
        for s, member in enumerate(staff):
            for shift in member.booked:
                starts, ends = self.offset(shift.starts_at), self.offset(shift.ends_at)
                if 0 <= starts < self.minute(6, 24):
                    self.booked_minutes[s] += ends - starts
                for slot, (begins, finishes) in self.slots.items() if shift.here else ():
                    if starts <= begins and finishes <= ends:
                        self.kept[slot].append(s)
        self._index([option for index in range(len(staff)) for option in self._options(index)])

    def _index(self, options: list["_Option"]) -> None:
        self.options = options
        self.covering: dict[tuple[int, int], list[int]] = defaultdict(list)
        self.by_staff_day: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, option in enumerate(options):
            self.by_staff_day[option.staff, option.day].append(i)
            for slot in self.hours(*option.kind):
                self.covering[slot].append(i)

    def narrowed(self, kinds: set[tuple[int, int, int]]) -> "_Week":
        """The same week with only the shifts of the given kinds (day, start, end)."""
        narrow = copy(self)
        narrow._index([option for option in self.options if option.kind in kinds])
        return narrow

    def hours(self, day: int, start: int, end: int) -> list[tuple[int, int]]:
        """The open slots a shift of the day from local hour start to end spans."""
        return [slot for hour in range(start, end) if (slot := self.slot(day, hour)) in self.slots]

    def wall(self, day: int, hour: int) -> datetime:
        return datetime.combine(self.week.starts_on, datetime.min.time()) + timedelta(days=day, hours=hour)

    def instant(self, day: int, hour: int) -> datetime:
        # fold=0: a wall time skipped by the clocks going forward maps to the same instant as the hour
        # after it, and a repeated one to its first occurrence, which gives the slot lengths above.
        return self.wall(day, hour).replace(tzinfo=self.zone).astimezone(UTC)

    @staticmethod
    def slot(day: int, hour: int) -> tuple[int, int]:
        """The slot of an hour counted from the day's midnight, past 24 into the next day."""
        return day + hour // 24, hour % 24

    def minute(self, day: int, hour: int) -> int:
        """Real minutes from the week's start to local hour:00 of the day (past 24: of the next day)."""
        return self._minutes[day, hour] if hour <= 24 else self._minutes[day + 1, hour - 24]

    def last_end(self, day: int) -> int:
        """The latest hour a shift starting on the day may end: the day's closing, or the next day's when
        the site stays open through midnight."""
        hours, following = self.week.opening[day], self.week.opening[day + 1] if day < 6 else None
        if hours.closes == 24 and following is not None and following.opens == 0:
            return 24 + following.closes
        return hours.closes

    def offset(self, moment: datetime) -> int:
        """Real minutes from the week's start to an aware moment (negative before it)."""
        return int((moment - self.origin).total_seconds()) // 60

    def local(self, minute: int) -> datetime:
        return (self.origin + timedelta(minutes=minute)).astimezone(self.zone)

    def free(self, member: StaffMember, day: int, hour: int) -> bool:
        starts, ends = self.wall(day, hour), self.wall(day, hour + 1)
        return all(absence.ends <= starts or absence.starts >= ends for absence in member.absences)

    def _options(self, index: int) -> list[_Option]:
        member, rules = self.staff[index], self.rules
        rest, longest = rules.min_rest_hours * 60, min(rules.max_shift_hours, member.max_hours) * 60
        booked = [(self.offset(shift.starts_at), self.offset(shift.ends_at)) for shift in member.booked]
        booked_days = {(shift.starts_at.astimezone(self.zone).date() - self.week.starts_on).days for shift in member.booked}
        found = []
        for day, hours in enumerate(self.week.opening):
            if hours is None or day in booked_days:
                continue
            for start in range(hours.opens, hours.closes):
                if (day, start) not in self.slots:
                    continue
                for end in range(start + 1, self.last_end(day) + 1):
                    starts, ends = self.minute(day, start), self.minute(day, end)
                    if not self.free(member, day, end - 1) or ends - starts > longest:
                        break
                    rested = all(ends + rest <= begins or finishes + rest <= starts for begins, finishes in booked)
                    if self.slot(day, end - 1) in self.slots and ends - starts >= rules.min_shift_hours * 60 and rested:
                        found.append(_Option(index, day, start, end, starts, ends))
        return found


def hour_name(day: int, hour: int) -> str:
    return f"{DAYS[day]} {hour}–{hour + 1}"


def open_hours(week: SiteWeek) -> dict[tuple[int, int], tuple[datetime, datetime]]:
    """Each open slot (day, local hour) of the week and the real instants it runs between; an hour the
    clocks skip is none."""
    plan = _Week(week, (), Rules())
    return {
        slot: (plan.origin + timedelta(minutes=begins), plan.origin + timedelta(minutes=ends))
        for slot, (begins, ends) in sorted(plan.slots.items())
    }


def check_capacity(week: SiteWeek, demand: Demand, staff: Sequence[StaffMember], rules: Rules = Rules()) -> list[str]:
    """What no schedule can meet, hour by hour: each open hour's demand, manager-level and skill cover
    against the staff who could work a shift through it. Empty when every hour could be covered on its own."""
    return _capacity_conflicts(_Week(week, staff, rules), demand)


def _capacity_conflicts(plan: _Week, demand: Demand) -> list[str]:
    rules, conflicts = plan.rules, []
    managers = ", ".join(sorted(rules.manager_level))
    for day, hour in sorted(plan.slots):
        people = [plan.staff[s] for s in {plan.options[i].staff for i in plan.covering[day, hour]} | set(plan.kept[day, hour])]
        need = demand.people.get((day, hour), 0)
        name = hour_name(day, hour)
        if len(people) < need:
            conflicts.append(f"{name}: demand {need}, only {len(people)} available")
        if not any(member.role in rules.manager_level for member in people):
            conflicts.append(f"{name}: no manager-level person ({managers}) available")
        for skill in demand.skills(day, hour):
            if not any(skill in member.skills for member in people):
                conflicts.append(f"{name}: no {skill.replace('_', '-')}-trained person available")
    return conflicts


class _Model:
    """The CP-SAT model of a week. With `explain`, every rule group is switched on by its own assumption
    literal and there is no objective, so an infeasible week can be traced back to named rules."""

    def __init__(self, plan: _Week, demand: Demand, explain: bool) -> None:
        self.plan, self.model = plan, cp_model.CpModel()
        self.explain = explain
        self.groups: dict[str, cp_model.IntVar] = {}  # rule group in plain words -> its assumption literal
        rules, model = plan.rules, self.model
        self.works = [model.new_bool_var(f"option{i}") for i in range(len(plan.options))]
        for indices in plan.by_staff_day.values():
            model.add_at_most_one(self.works[i] for i in indices)  # one shift a day
        overstaffing = []
        for (day, hour) in sorted(plan.slots):
            covering, present = plan.covering[day, hour], [plan.staff[s] for s in plan.kept[day, hour]]
            need = demand.people.get((day, hour), 0)
            staffed = sum(self.works[i] for i in covering) + len(present)
            model.add(staffed >= need).only_enforce_if(self.group(f"{DAYS[day]}: the demand of every open hour"))
            overstaffing.append(staffed - need)
            if not any(member.role in rules.manager_level for member in present):
                managers = [self.works[i] for i in covering if plan.staff[plan.options[i].staff].role in rules.manager_level]
                model.add_bool_or(managers).only_enforce_if(self.group(f"{DAYS[day]}: a manager-level person every open hour"))
            for skill in demand.skills(day, hour):
                if not any(skill in member.skills for member in present):
                    model.add_bool_or(self.skilled(covering, skill)).only_enforce_if(self.group(
                        f"{DAYS[day]}: a de-escalation-trained person every busy hour" if skill is Skill.de_escalation
                        else f"{DAYS[day]}: register- and returns-trained people every open hour"
                    ))
        shortfall, evenings, weekends = [], [], []
        for s, member in enumerate(plan.staff):
            mine = [i for day in range(7) for i in plan.by_staff_day.get((s, day), ())]
            worked = plan.booked_minutes[s] + sum(self.works[i] * plan.options[i].minutes for i in mine)
            model.add(worked <= member.max_hours * 60).only_enforce_if(
                self.group(f"{member.staff_id}: at most {member.max_hours} h a week"))
            short = model.new_int_var(0, member.contracted_hours * 60, f"short{s}")
            model.add(short >= member.contracted_hours * 60 - worked)
            shortfall.append(short)
            self.rest(s, member)
            evening = [i for i in mine if plan.options[i].end > rules.evening_after]
            weekend = [i for i in mine if plan.options[i].day in WEEKEND]
            if evening:
                evenings.append(sum(self.works[i] for i in evening))
            if weekend:
                weekends.append(sum(self.works[i] for i in weekend))
        if not explain:
            fairness = [self.spread(counts) for counts in (evenings, weekends) if counts]
            model.minimize(
                rules.overstaffing_weight * sum(overstaffing)
                + rules.shortfall_weight * sum(shortfall)
                + rules.fairness_weight * sum(fairness)
            )

    def group(self, name: str) -> list[cp_model.IntVar]:
        """The literal that switches a rule group on; none outside `explain`, where every rule is simply hard."""
        if not self.explain:
            return []
        if name not in self.groups:
            self.groups[name] = self.model.new_bool_var(name)
            self.model.add_assumption(self.groups[name])
        return [self.groups[name]]

    def skilled(self, covering: list[int], skill: Skill) -> list[cp_model.IntVar]:
        return [self.works[i] for i in covering if skill in self.plan.staff[self.plan.options[i].staff].skills]

    def rest(self, s: int, member: StaffMember) -> None:
        """Rest from the end of one day's shift to the start of a later day's, as one at-most-one per
        possible end: a shift ending at or after it, or a later shift starting too soon after it. Shifts
        three days apart always rest long enough (up to 24 h), since a shift ends by the next day's end."""
        plan, rest = self.plan, self.plan.rules.min_rest_hours * 60
        group = self.group(f"{member.staff_id}: {plan.rules.min_rest_hours} h rest between shifts")
        for day in range(6):
            today = plan.by_staff_day.get((s, day), ())
            for later in range(day + 1, min(day + 3, 7)):
                after = plan.by_staff_day.get((s, later), ())
                for end in sorted({plan.options[i].ends_min for i in today}):
                    too_soon = [self.works[j] for j in after if plan.options[j].starts_min < end + rest]
                    if too_soon:
                        late = [self.works[i] for i in today if plan.options[i].ends_min >= end]
                        self.model.add(sum(late) + sum(too_soon) <= 1).only_enforce_if(group)

    def spread(self, counts: list) -> cp_model.IntVar:
        most, fewest = self.model.new_int_var(0, 7, ""), self.model.new_int_var(0, 7, "")
        self.model.add_max_equality(most, counts)
        self.model.add_min_equality(fewest, counts)
        return most - fewest


def _cover_plan(plan: _Week, demand: Demand, settings: SolverSettings) -> dict[tuple[int, int, int], int]:
    """How many shifts of each kind (day, start, end) give every open hour its demand, and at least one
    person, with the fewest staff-hours above it; people, skills and rest aside."""
    model, counts = cp_model.CpModel(), {}
    for option in plan.options:
        if option.kind not in counts:
            counts[option.kind] = model.new_int_var(0, len(plan.staff), "")
    covering = defaultdict(list)
    for option_kind, count in counts.items():
        for slot in plan.hours(*option_kind):
            covering[slot].append(count)
    above = []
    for slot in plan.slots:
        need = max(demand.people.get(slot, 0), 1) - len(plan.kept[slot])
        model.add(sum(covering[slot]) >= need)
        above.append(sum(covering[slot]) - need)
    model.minimize(sum(above))
    solver = _solver(replace(settings, workers=1, work_limit=settings.work_limit / 10))
    if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return {}
    return {option_kind: solver.value(count) for option_kind, count in counts.items() if solver.value(count)}


class _Start:
    """A first schedule built by hand-like rules from the cover plan; CP-SAT improves it."""

    def __init__(self, plan: _Week, demand: Demand) -> None:
        self.plan, self.demand = plan, demand
        self.rest = plan.rules.min_rest_hours * 60
        self.worked = list(plan.booked_minutes)
        self.shifts: dict[int, list[_Option]] = defaultdict(list)
        self.evenings, self.weekends = [0] * len(plan.staff), [0] * len(plan.staff)
        self.present = {slot: set(plan.kept[slot]) for slot in plan.slots}
        self.chosen: list[_Option] = []

    def fits(self, option: _Option) -> bool:
        mine = self.shifts[option.staff]
        return (
            all(shift.day != option.day for shift in mine)
            and self.worked[option.staff] + option.minutes <= self.plan.staff[option.staff].max_hours * 60
            and all(shift.ends_min + self.rest <= option.starts_min or option.ends_min + self.rest <= shift.starts_min
                    for shift in mine)
        )

    def take(self, index: int) -> None:
        option = self.plan.options[index]
        self.chosen.append(option)
        self.shifts[option.staff].append(option)
        self.worked[option.staff] += option.minutes
        self.evenings[option.staff] += option.end > self.plan.rules.evening_after
        self.weekends[option.staff] += option.day in WEEKEND
        for slot in self.plan.hours(*option.kind):
            self.present[slot].add(option.staff)

    def missing(self, slot: tuple[int, int], counting: bool = True) -> Callable[[StaffMember], bool] | None:
        """Whom the slot still needs: a manager-level person, then each skill, then (`counting`) anyone up
        to its demand; None when it has all it needs."""
        present, manager_level = [self.plan.staff[s] for s in self.present[slot]], self.plan.rules.manager_level
        if not any(member.role in manager_level for member in present):
            return lambda member: member.role in manager_level
        for skill in self.demand.skills(*slot):
            if not any(skill in member.skills for member in present):
                return lambda member, skill=skill: skill in member.skills
        if counting and len(present) < self.demand.people.get(slot, 0):
            return lambda member: True
        return None

    def candidates(self, indices: Sequence[int], wanted: Callable[[StaffMember], bool]) -> list[int]:
        options, staff = self.plan.options, self.plan.staff
        return [i for i in indices if wanted(staff[options[i].staff]) and self.fits(options[i])]

    def spare(self, s: int) -> int:
        return self.plan.staff[s].contracted_hours * 60 - self.worked[s]

    def preference(self, index: int) -> tuple:
        """For a shift any of several people could take: one it keeps within their contract, fewest
        evenings and weekends so far, not manager-level or skilled (they are scarce), most contract left."""
        option = self.plan.options[index]
        member, late = self.plan.staff[option.staff], option.end > self.plan.rules.evening_after
        unfair = (self.evenings[option.staff] if late else 0) + (self.weekends[option.staff] if option.day in WEEKEND else 0)
        return (self.spare(option.staff) >= option.minutes, -unfair, member.role not in self.plan.rules.manager_level,
                -len(member.skills), self.spare(option.staff))

    def surplus(self, option: _Option) -> int:
        """Hours of the shift whose demand is already met."""
        return sum(len(self.present[slot]) >= self.demand.people.get(slot, 0) for slot in self.plan.hours(*option.kind))


def _start(plan: _Week, demand: Demand, cover: dict[tuple[int, int, int], int]) -> list[_Option] | None:
    """The shifts of a first schedule, or None if these rules could not complete one."""
    start, options = _Start(plan, demand), plan.options
    left = dict(cover)
    of_kind = defaultdict(list)
    for i, option in enumerate(options):
        of_kind[option.kind].append(i)
    in_order = sorted(plan.slots, key=lambda slot: plan.slots[slot][0])
    for slot in in_order:  # a manager-level person and each skill along the week, on shifts of the plan
        while (wanted := start.missing(slot, counting=False)) is not None:
            found = [i for i in start.candidates(plan.covering[slot], wanted) if left.get(options[i].kind, 0) > 0]
            if not found:
                break
            chosen = max(found, key=lambda i: (options[i].ends_min, start.spare(options[i].staff)))
            left[options[chosen].kind] -= 1
            start.take(chosen)
    for option_kind in sorted(left):  # the rest of the plan's shifts
        for _ in range(left[option_kind]):
            found = start.candidates(of_kind[option_kind], lambda member: True)
            if not found:
                break
            start.take(max(found, key=start.preference))
    for slot in in_order:  # what is still missing, over every shift anyone could work
        begins = plan.slots[slot][0]
        while (wanted := start.missing(slot)) is not None:
            found = start.candidates(plan.covering[slot], wanted)
            if not found:
                return None
            start.take(max(found, key=lambda i: (
                options[i].starts_min == begins, options[i].starts_min, -start.surplus(options[i]),
                start.spare(options[i].staff), options[i].minutes)))
    return start.chosen


def _checked(built: "_Model", first: list[_Option], hint: bool) -> bool:
    """Whether the start meets every rule of the model; with `hint`, the model is given it as a complete
    hint (its own values for the objective's terms too)."""
    model, works = built.model, set(first)
    for option, literal in zip(built.plan.options, built.works):
        model.add_hint(literal, option in works)
    solver = cp_model.CpSolver()
    solver.parameters.fix_variables_to_their_hinted_value = True
    solver.parameters.num_workers = 1
    valid = solver.solve(model) in (cp_model.OPTIMAL, cp_model.FEASIBLE)
    model.clear_hints()
    if valid and hint:
        for index in range(len(model.proto.variables)):
            variable = model.get_int_var_from_proto_index(index)
            model.add_hint(variable, solver.value(variable))
    return valid


def _solver(settings: SolverSettings) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = settings.workers
    solver.parameters.random_seed = settings.seed
    solver.parameters.max_deterministic_time = settings.work_limit
    solver.parameters.max_time_in_seconds = settings.time_limit_seconds
    return solver


def solve(
    week: SiteWeek,
    demand: Demand,
    staff: Sequence[StaffMember],
    rules: Rules = Rules(),
    settings: SolverSettings = SolverSettings(),
) -> Schedule | Infeasible:
    """The draft schedule of a site's week, or the conflicting rules in plain words."""
    full = _Week(week, staff, rules)
    conflicts = _capacity_conflicts(full, demand)
    if conflicts:
        return Infeasible(week.site_id, tuple(conflicts))
    cover = _cover_plan(full, demand, settings)
    first = _start(full, demand, cover)
    narrow = first is not None and len(full.options) > settings.whole_search_options
    plan = full.narrowed(set(cover) | {option.kind for option in first}) if narrow else full
    built = _Model(plan, demand, explain=False)
    valid = first is not None and _checked(built, first, hint=narrow)
    solver = _solver(settings)
    status = solver.solve(built.model)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        chosen = [option for option, works in zip(plan.options, built.works) if solver.boolean_value(works)]
    elif valid:  # the search found nothing in time: the start is the draft
        chosen = first
    elif status == cp_model.INFEASIBLE:
        return Infeasible(week.site_id, _explain(full, demand, settings))
    else:
        return Infeasible(week.site_id, (
            f"no schedule found within the solver's limit ({settings.work_limit} work units); the week was not proven impossible",
        ))
    shifts = sorted(
        (DraftShift(staff[o.staff].staff_id, plan.local(o.starts_min), plan.local(o.ends_min)) for o in chosen),
        key=lambda shift: (shift.starts_at, shift.staff_id),
    )
    # Optimal over the narrowed shift kinds is not proven best for the week.
    return Schedule(week.site_id, tuple(shifts), proven_best=status == cp_model.OPTIMAL and plan is full)


def _explain(plan: _Week, demand: Demand, settings: SolverSettings) -> tuple[str, ...]:
    built = _Model(plan, demand, explain=True)
    solver = _solver(settings)
    if solver.solve(built.model) != cp_model.INFEASIBLE:
        return ("no schedule found, and the rules could not be narrowed down to a conflict",)
    names = {literal.index: name for name, literal in built.groups.items()}
    core = sorted({names[index] for index in solver.sufficient_assumptions_for_infeasibility()})
    if not core:
        return ("shift lengths, opening hours, availability and one shift a day leave no possible schedule",)
    return (f"these rules cannot all hold together: {'; '.join(core)}",)
