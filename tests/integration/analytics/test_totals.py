"""The analytics worker as a process on the real broker, counting the complaints service's real
events (and escalation events as the escalation worker publishes them): its /metrics carries
exactly the expected totals, also after it is killed mid-stream and started again."""

import subprocess
from datetime import UTC, datetime

import pytest

from services.shared.principal import Role
from services.shared.events.envelope import wrap
from services.shared.events.coordination import PolicyDecided, PolicyProposed, ProblemAcknowledged, ProblemDetected
from services.shared.events.escalations import EscalationBreached, EscalationPaged, EscalationRouted
from services.shared.kafka import make_producer, publish
from services.shared.topics import COORDINATION, ESCALATIONS
from tests.integration.analytics.conftest import REGION, STORE, Analytics
from tests.integration.escalation.conftest import reject_returns
from tests.support import eventually
from tests.unit.analytics.test_totals import example


def key(name: str, store: str = STORE, **labels: str) -> tuple:
    return name, tuple(sorted({"region": REGION, "store": store, **labels}.items()))


async def scenario(api, platform, store: str = STORE, region: str = REGION) -> dict[tuple, float]:
    """Known complaints, resolutions, CSAT answers, returns and escalations; returns the totals expected."""
    filed = [
        (await api.file(store=store, category=category, severity=severity, mood="upset", channel="in_store",
                        customer={"email": f"an-{i}@example.com"})).json()["id"]
        for i, (category, severity) in enumerate([("product_quality", "medium"), ("product_quality", "medium"),
                                                  ("service", "high")])
    ]
    for complaint_id in filed[:2]:
        response = await api.client.post(f"/v1/complaints/{complaint_id}/acknowledge", headers=api.token(Role.associate, store))
        assert response.status_code == 200, response.text
        token = await api.resolve(complaint_id, store=store)
        score = 5 if complaint_id == filed[0] else 3
        assert (await api.client.post(f"/v1/csat/{token}", json={"score": score})).status_code == 204
    await reject_returns(api, region, store, 2)
    approved = await api.client.post("/v1/returns", headers=api.token(Role.associate, store), json={
        "store_id": store, "kind": "refund", "tender": "cash", "amount": {"minor_units": 4990, "currency": "EUR"},
        "product_category": "small-appliances", "purchased_on": datetime.now(UTC).date().isoformat(), "receipt_number": "R-7",
    })
    assert approved.status_code == 201 and approved.json()["status"] == "approved", approved.text

    now = datetime.now(UTC)
    common = {"store_id": store, "region_id": region, "complaint_id": filed[2]}
    escalations = [
        EscalationRouted(**common, assignee={"tier": "coordinator"}, acknowledge_by=now, resolve_by=now, reason="x", at=now),
        EscalationPaged(**common, page_id=filed[2], recipient={"tier": "store_manager"}, reason="x", at=now),
        EscalationBreached(**common, tier="coordinator", deadline_kind="acknowledge", deadline=now, at=now),
    ]
    producer = make_producer(platform, client_id="test-escalations")
    await producer.start()
    try:
        await publish(producer, ESCALATIONS, [wrap(e, source="/tests", time=now) for e in escalations], platform)
    finally:
        await producer.stop()

    def k(name: str, **labels: str) -> tuple:
        return key(name, store, region=region, **labels)

    return {
        k("retail_complaints_filed_total", category="product_quality", channel="in_store", severity="medium", mood="upset"): 2,
        k("retail_complaints_filed_total", category="service", channel="in_store", severity="high", mood="upset"): 1,
        k("retail_complaints_acknowledged_total"): 2,
        k("retail_complaints_resolved_total", first_contact="true"): 2,
        k("retail_csat_surveys_issued_total"): 2,
        k("retail_csat_score_count"): 2,
        k("retail_csat_score_sum"): 8,
        k("retail_csat_score_bucket", le="3.0"): 1,
        k("retail_csat_score_bucket", le="5.0"): 2,
        k("retail_complaint_acknowledge_seconds_count"): 2,
        k("retail_complaint_resolve_seconds_count"): 2,
        k("retail_return_requests_total", kind="refund", tender="cash", receipt="yes"): 3,
        k("retail_returns_total", kind="refund", tender="cash", decision="rejected"): 2,
        k("retail_returns_total", kind="refund", tender="cash", decision="approved"): 1,
        k("retail_returns_value_euros_total", kind="refund", tender="cash"): 49.90,
        k("retail_return_rejections_total", rule="return_window"): 2,
        k("retail_escalations_routed_total", tier="coordinator"): 1,
        k("retail_pages_total"): 1,
        k("retail_sla_breaches_total", tier="coordinator", deadline="acknowledge"): 1,
    }


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
    expected_report = ((6, 4, 4), (4, 4.0), 2, {"coordinator": 2}, (6, {"approved": 2, "rejected": 4}, 99.8))
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
