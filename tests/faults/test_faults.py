"""Under steady load through the public APIs, every process of the platform, the broker and the
partition leaders of a 3-node cluster are killed with SIGKILL and started again; afterwards every
complaint that got a 201 was routed once, is on its board once and counted once, no SLA deadline
was breached twice, every outbox drained and every poison record is in its topic's DLQ.

The number of kills and the load come from RETAIL_FAULTS_* (see tests.support.faults.Plan)."""

from dataclasses import replace

from tests.support.faults import DATABASES, Plan, run_faults, running_platform


async def test_kill_9_of_every_process_and_of_the_broker_loses_and_duplicates_nothing(new_database, record_figures, tmp_path):
    plan = replace(Plan.from_env(), leader_kills=0)
    async with running_platform(tmp_path, {name: await new_database() for name in DATABASES}) as platform:
        figures = await run_faults(platform, plan)
    record_figures("single broker: kill -9 of every process and of the broker", figures)
    assert figures.clean, figures.summary()


async def test_killing_partition_leaders_of_a_three_node_cluster_loses_and_duplicates_nothing(
    new_database, record_figures, tmp_path
):
    plan = replace(Plan.from_env(), kills=0, broker_kills=0)
    async with running_platform(tmp_path, {name: await new_database() for name in DATABASES}, nodes=3) as platform:
        figures = await run_faults(platform, plan)
    record_figures("3-node cluster: kill -9 of partition leaders", figures)
    assert figures.clean, figures.summary()
