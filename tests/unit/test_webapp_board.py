"""The store manager's board: the complaints past a deadline first, then those someone was paged
about, then by the nearest deadline, then the oldest."""

from datetime import UTC, datetime, timedelta

from services.webapp.pages.manager import board, week_of

NOW = datetime(2027, 3, 3, 12, 0, tzinfo=UTC)


def complaint(name: str, acknowledge_in: int | None = None, resolve_in: int | None = None, filed_ago: int = 60) -> dict:
    def at(minutes: int | None) -> str | None:
        return None if minutes is None else (NOW + timedelta(minutes=minutes)).isoformat()

    return {"id": name, "acknowledge_by": at(acknowledge_in), "resolve_by": at(resolve_in), "created_at": at(-filed_ago)}


def test_breached_first_then_paged_then_the_nearest_deadline_then_the_oldest():
    complaints = [
        complaint("later", acknowledge_in=30, resolve_in=240),
        complaint("no-deadline-new", filed_ago=5),
        complaint("paged", acknowledge_in=60),
        complaint("sooner", acknowledge_in=10, resolve_in=240),
        complaint("resolve-breached", resolve_in=-1),
        complaint("no-deadline-old", filed_ago=90),
        complaint("acknowledge-breached", acknowledge_in=-30, resolve_in=200),
    ]
    rows = board(complaints, {"paged", "resolve-breached"}, NOW)
    assert [row.complaint["id"] for row in rows] == [
        "resolve-breached", "acknowledge-breached", "paged", "sooner", "later", "no-deadline-old", "no-deadline-new"]
    assert [(row.breached, row.paged, row.past) for row in rows[:3]] == [
        (True, True, ("resolve_by",)), (True, False, ("acknowledge_by",)), (False, True, ())]


def test_a_deadline_at_this_very_instant_is_not_yet_passed():
    [row] = board([complaint("now", acknowledge_in=0)], set(), NOW)
    assert (row.breached, row.due) == (False, NOW)


def test_without_the_notifications_service_the_paged_flag_is_unknown_and_the_order_still_holds():
    rows = board([complaint("calm", acknowledge_in=60), complaint("late", acknowledge_in=-1)], None, NOW)
    assert [(row.complaint["id"], row.paged) for row in rows] == [("late", None), ("calm", None)]


def test_a_week_is_named_by_its_monday():
    assert week_of(NOW.date()) == NOW.date() - timedelta(days=2)  # a Wednesday
    assert week_of(datetime(2027, 3, 1).date()) == datetime(2027, 3, 1).date()
    assert week_of(datetime(2027, 3, 7).date()) == datetime(2027, 3, 1).date()
