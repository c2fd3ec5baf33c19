"""The analytics worker as a process on the real broker, counting the complaints service's real
events (and escalation events as the escalation worker publishes them): its /metrics carries
exactly the expected totals, also after it is killed mid-stream and started again."""

import subprocess

import pytest

from services.shared.events.coordination import PolicyDecided, PolicyProposed, ProblemAcknowledged, ProblemDetected
from services.shared.events.envelope import wrap
from services.shared.kafka import make_producer, publish
from services.shared.principal import Role
from services.shared.topics import COORDINATION
from tests.support import eventually
from tests.support.analytics import STORE, Analytics, key, scenario
from tests.support.builders import example


async def test_metrics_carry_exactly_the_scenarios_totals_also_after_a_kill_mid_stream(api, platform, analytics, reports):
    first = await scenario(api, platform)
    await eventually(lambda: _equal(analytics, first), timeout_s=90, what="the first scenario's totals")
    second = await scenario(api, platform)
    filed = key("retail_complaints_filed_total", category="product_quality", channel="in_store", severity="medium", mood="upset")

    async def counting_again() -> bool:
        return (await analytics.samples()).get(filed, 0) > first[filed]

    await eventually(counting_again, timeout_s=60, what="the worker to count the second round")
    analytics.kill()  # mid-stream: what it counted since its last commit is read again after the restart
    analytics.start()
    expected = {k: first[k] + second[k] for k in first}
    await eventually(lambda: _equal(analytics, expected), timeout_s=120, what="the totals after a restart")
    samples = await analytics.samples()
    assert all(samples[k] == pytest.approx(v) for k, v in expected.items()), "nothing counted twice"
    assert not any(label in ("complaint_id", "customer_ref", "staff_id") for _, labels in samples for label, _ in labels)

    # The hourly windows behind the reports survived the kill exactly too: two rounds, nothing twice.
    expected_report = ((6, 4, 4), (4, 4.0), 2, {"coordinator": 2},
                       (8, {"approved": 2, "declined": 2, "rejected": 4}, 99.8))
    seen: list[tuple] = []

    async def reported() -> bool:
        satisfaction = (await reports.report("satisfaction", store_id=STORE) or {}).get("satisfaction")
        returns = (await reports.report("loss-prevention", store_id=STORE) or {}).get("loss_prevention")
        if satisfaction and returns:
            seen.append((
                (satisfaction["complaints_filed"], satisfaction["acknowledged"], satisfaction["resolved"]),
                (satisfaction["csat"]["answers"], satisfaction["csat"]["mean"]), satisfaction["pages"],
                satisfaction["sla_breaches_by_tier"], (returns["return_requests"], returns["decisions"], returns["value_euros"]),
            ))
        return bool(seen) and seen[-1] == expected_report

    await eventually(reported, timeout_s=60, what="the report of both rounds")


async def _equal(analytics: Analytics, expected: dict[tuple, float]) -> bool:
    samples = await analytics.samples()
    return all(k in samples and samples[k] == pytest.approx(v) for k, v in expected.items())


async def test_metrics_need_an_ops_or_service_token_and_pass_promtools_lint(analytics):
    await eventually(lambda: analytics.samples(), timeout_s=60, what="the worker's metrics")
    assert (await analytics.metrics(Role.senior_manager)).status_code == 403
    exposition = (await analytics.metrics(Role.service)).text
    lint = subprocess.run(["promtool", "check", "metrics"], input=exposition, capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr


async def test_common_problems_and_policy_proposals_are_counted_per_region(platform, analytics):
    region = "etela-savo"  # no other test's coordination events
    detected = example(ProblemDetected, region_id=region)
    events = [detected, example(ProblemAcknowledged, region_id=region), example(PolicyProposed, region_id=region),
              example(PolicyDecided, region_id=region, decision="accepted")]
    producer = make_producer(platform, client_id="test-coordination")
    await producer.start()
    try:
        envelopes = [wrap(event, source="/tests", time=event.at) for event in events]
        await publish(producer, COORDINATION, [*envelopes, envelopes[0]], platform)  # the detection published twice
    finally:
        await producer.stop()
    expected = {
        ("retail_common_problems_detected_total", (("category", str(detected.evidence.category)), ("region", region))): 1,
        ("retail_common_problems_acknowledged_total", (("region", region),)): 1,
        ("retail_policy_proposals_total", (("region", region),)): 1,
        ("retail_policy_decisions_total", (("decision", "accepted"), ("region", region))): 1,
    }

    async def counted() -> bool:
        return await analytics.samples(region) == expected

    await eventually(counted, timeout_s=90, what="the region's coordination totals")
