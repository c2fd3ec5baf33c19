"""The escalation worker killed mid-stream and started again — once on its own disk, once on an
empty one so that its tables come back from their changelogs — loses no timer, duplicates no
decision and leaves the regional board right."""

from datetime import timedelta

from services.escalation.topics import CLOCK
from services.shared.topics import COMPLAINTS, ESCALATIONS, ROSTER
from tests.support import eventually, read_all, read_topic
from tests.support.escalation import publish_roster, tick

REGION = "uusimaa"


def ids_by_complaint(envelopes: list, kind: str, complaints: set[str]) -> dict[str, set]:
    found: dict[str, set] = {}
    for e in envelopes:
        if e.type == f"retail.escalation.{kind}.v1" and str(e.data.complaint_id) in complaints:
            found.setdefault(str(e.data.complaint_id), set()).add(e.id)
    return found


async def test_a_worker_killed_mid_stream_keeps_every_timer_and_decision_and_the_board(
    api, platform, worker, boards, tmp_path
):
    await publish_roster(platform, "hel-kamppi", REGION, [("emp-1042", "associate"), ("crd-0001", "coordinator")])
    await eventually(lambda: worker.has_read(ROSTER), timeout_s=90, what="the worker to read the roster")
    bootstrap = platform.kafka_bootstrap_servers

    async def file(count: int, start: int) -> list[str]:
        return [(await api.file(store="hel-kamppi", severity="medium", customer={"email": f"r{i}@example.com"})).json()["id"]
                for i in range(start, start + count)]

    filed = await file(12, 0)
    await read_topic(bootstrap, ESCALATIONS, lambda es: len(ids_by_complaint(es, "routed", set(filed))) >= 3, timeout_s=90)
    worker.kill()  # mid-stream
    filed += await file(8, 12)
    complaints = set(filed)
    worker.start()
    envelopes = await read_topic(
        bootstrap, ESCALATIONS, lambda es: len(ids_by_complaint(es, "routed", complaints)) == len(filed), timeout_s=120
    )
    routed = ids_by_complaint(envelopes, "routed", complaints)
    assert all(len(ids) == 1 for ids in routed.values()), "one routing decision per complaint"
    await eventually(lambda: worker.has_read(COMPLAINTS), timeout_s=60, what="the worker to commit the complaints")

    worker.kill()
    worker.data_dir = str(tmp_path / "empty-disk")  # the tables must come back from their changelogs
    worker.start()
    deadlines = [e.data.acknowledge_by for e in envelopes if e.type == "retail.escalation.routed.v1"
                 and str(e.data.complaint_id) in complaints]
    await tick(platform, max(deadlines) + timedelta(seconds=1))
    envelopes = await read_topic(
        bootstrap, ESCALATIONS, lambda es: len(ids_by_complaint(es, "raised", complaints)) == len(filed), timeout_s=120
    )
    worker.kill()  # again, right after the breaches
    worker.start()
    await tick(platform, max(deadlines) + timedelta(seconds=2))  # the raised deadlines are still ahead
    await eventually(lambda: worker.has_read(CLOCK), timeout_s=90, what="the restarted worker to read the tick")
    envelopes = await read_all(bootstrap, ESCALATIONS)
    for kind in ("breached", "raised"):
        fired = ids_by_complaint(envelopes, kind, complaints)
        assert set(fired) == complaints, f"every timer fired: {kind}"
        assert all(len(ids) == 1 for ids in fired.values()), f"each {kind} once"

    async def board_right() -> bool:
        shown = {c["complaint_id"]: c for c in (await boards.board(REGION)).json()["complaints"]}
        return all(c in shown and shown[c]["breaches"] == 1 and shown[c]["assignee"]["tier"] == "coordinator" for c in filed)

    await eventually(board_right, timeout_s=60, what="every complaint breached once, at the coordinator, on the board")
