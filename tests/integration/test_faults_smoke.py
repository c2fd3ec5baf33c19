"""The fault suite's smoke (`make faults` runs it in full): under a small load, one kill -9 of every
process and of the broker, and a few poison records; nothing lost, nothing done twice, every poison
record in its topic's DLQ."""

from tests.support.faults import DATABASES, Plan, run_faults, running_platform

SMOKE = Plan(kills=1, broker_kills=1, leader_kills=0, rate=2.0, pause_s=1.0)


async def test_a_kill_9_of_every_process_and_of_the_broker_under_load_loses_and_duplicates_nothing(new_database, tmp_path):
    async with running_platform(tmp_path, {name: await new_database() for name in DATABASES}) as platform:
        figures = await run_faults(platform, SMOKE)
    assert figures.clean, figures.summary()
