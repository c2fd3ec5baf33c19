"""The analytics worker and its reports API as their own processes on the real broker, and the
scenarios tests run through them with the totals they must show."""

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import uuid4

import httpx
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from services.shared.auth import mint_token
from services.shared.events.envelope import Envelope, wrap
from services.shared.events.escalations import EscalationBreached, EscalationPaged, EscalationRouted
from services.shared.events.returns import ReturnExceptionGranted, ReturnRequested
from services.shared.events.scheduling import ShiftScheduled, TrainingCompleted
from services.shared.kafka import ensure_topics, make_producer, publish
from services.shared.principal import Role
from services.shared.topics import ALL_TOPICS, ESCALATIONS, RETURNS, SCHEDULING, Topic
from tests.support import ServiceProcess
from tests.support.builders import example
from tests.support.complaints import Api, add_stores, reject_returns, start_api
from tests.support.infra import free_port

REGION, STORE, OTHER = "ahvenanmaa", "mhm-torget", "mhm-city"
STEPS = {"defuse": True, "isolate_core_problem": True, "address_concerns": False}  # of each resolution in the scenario


class Analytics:
    def __init__(self, platform, data_dir: str, env: dict[str, str] | None = None) -> None:
        self.platform, self.data_dir, self.env, self.port = platform, data_dir, env or {}, free_port()
        self.process: ServiceProcess | None = None

    def start(self) -> None:
        self.process = ServiceProcess("services.analytics", {
            "RETAIL_KAFKA_BOOTSTRAP_SERVERS": self.platform.kafka_bootstrap_servers, "ANALYTICS_DATA_DIR": self.data_dir,
            "ANALYTICS_PORT": str(self.port), "ANALYTICS_INSTANCE_ID": "analytics-test", **self.env,
        })

    def kill(self) -> None:
        self.process.process.kill()
        self.process.process.wait()

    def last_words(self, lines: int = 40) -> str:
        return self.process.last_words(lines)

    async def metrics(self, role: Role = Role.ops) -> httpx.Response:
        token = mint_token(self.platform, sub="ops-0001", role=role, now=datetime.now(UTC), ttl=timedelta(hours=1))
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}") as client:
            return await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})

    async def samples(self, region: str = REGION) -> dict[tuple, float]:
        """The region's samples, by (name, sorted labels); empty while the worker is not up."""
        return await self.scrape(lambda sample: sample.labels.get("region") == region)

    async def scrape(self, keep: Callable[[Sample], bool]) -> dict[tuple, float]:
        """The samples `keep` keeps, by (name, sorted labels); empty while the worker is not up."""
        assert self.process.process.poll() is None, self.process.logs()
        try:
            response = await self.metrics()
        except httpx.TransportError:
            return {}
        return {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text)
            for sample in family.samples
            if keep(sample)
        }


class Reports:
    """The reports API as its own process."""

    def __init__(self, platform) -> None:
        self.platform, self.port = platform, free_port()
        self.process = ServiceProcess("services.analytics.reports", {
            "RETAIL_KAFKA_BOOTSTRAP_SERVERS": platform.kafka_bootstrap_servers, "ANALYTICS_REPORTS_PORT": str(self.port),
        })

    async def get(self, path: str, role: Role | None = Role.senior_manager, region: str | None = None,
                  store: str | None = None, **params: str) -> httpx.Response:
        assert self.process.process.poll() is None, self.process.logs()
        headers = {}
        if role is not None:
            token = mint_token(self.platform, sub="emp-0001", role=role, region_id=region, store_id=store,
                               now=datetime.now(UTC), ttl=timedelta(hours=1))
            headers["Authorization"] = f"Bearer {token}"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.port}") as client:
            return await client.get(f"/v1/reports/{path}", params=params, headers=headers)

    async def report(self, path: str, **params: str) -> dict | None:
        """A senior manager's report; None while the API is not up."""
        try:
            response = await self.get(path, **params)
        except httpx.TransportError:
            return None
        assert response.status_code == 200, response.text
        return response.json()


def key(name: str, store: str = STORE, **labels: str) -> tuple:
    return name, tuple(sorted({"region": REGION, "store": store, **labels}.items()))


async def scenario(api, platform, store: str = STORE, region: str = REGION) -> dict[tuple, float]:
    """Known complaints, resolutions (with the technique's steps, one reopened), CSAT answers, returns (one
    declined by the store manager) and escalations; returns the totals expected."""
    filed = [
        (await api.file(store=store, category=category, severity=severity, mood="upset", channel="in_store",
                        customer={"email": f"an-{i}@example.com"})).json()["id"]
        for i, (category, severity) in enumerate([("product_quality", "medium"), ("product_quality", "medium"),
                                                  ("service", "high")])
    ]
    for complaint_id in filed[:2]:
        response = await api.client.post(f"/v1/complaints/{complaint_id}/acknowledge", headers=api.token(Role.associate, store))
        assert response.status_code == 200, response.text
        token = await api.resolve(complaint_id, store=store, steps=STEPS)
        score = 5 if complaint_id == filed[0] else 3
        assert (await api.client.post(f"/v1/csat/{token}", json={"score": score})).status_code == 204
    reopened = await api.client.post(f"/v1/complaints/{filed[1]}/reopen", json={}, headers=api.token(Role.associate, store))
    assert reopened.status_code == 200, reopened.text
    await reject_returns(api, region, store, 2)
    approved = await api.client.post("/v1/returns", headers=api.token(Role.associate, store), json={
        "store_id": store, "kind": "refund", "tender": "cash", "amount": {"minor_units": 4990, "currency": "EUR"},
        "product_category": "small-appliances", "purchased_on": datetime.now(UTC).date().isoformat(), "receipt_number": "R-7",
    })
    assert approved.status_code == 201 and approved.json()["status"] == "approved", approved.text
    pending = await api.client.post("/v1/returns", headers=api.token(Role.associate, store), json={
        "store_id": store, "kind": "refund", "tender": "cash", "amount": {"minor_units": 34990, "currency": "EUR"},
        "product_category": "small-appliances", "purchased_on": datetime.now(UTC).date().isoformat(), "receipt_number": "R-8",
    })
    assert pending.status_code == 201 and pending.json()["status"] == "pending_approval", pending.text
    declined = await api.client.post(f"/v1/returns/{pending.json()['id']}/decline", headers=api.token(Role.store_manager, store),
                                     json={"reason": "Used for a season.", "category": "item_condition"})
    assert declined.status_code == 200, declined.text

    now = datetime.now(UTC)
    common = {"store_id": store, "region_id": region, "complaint_id": filed[2]}
    escalations = [
        EscalationRouted(**common, assignee={"tier": "coordinator"}, acknowledge_by=now, resolve_by=now, reason="x", at=now),
        EscalationPaged(**common, page_id=filed[2], recipient={"tier": "store_manager"}, reason="x", at=now),
        EscalationBreached(**common, tier="coordinator", deadline_kind="acknowledge", deadline=now, at=now),
    ]
    await publish_events(platform, ESCALATIONS, [wrap(e, source="/tests", time=now) for e in escalations])

    def k(name: str, **labels: str) -> tuple:
        return key(name, store, region=region, **labels)

    return {
        k("retail_complaints_filed_total", category="product_quality", channel="in_store", severity="medium", mood="upset"): 2,
        k("retail_complaints_filed_total", category="service", channel="in_store", severity="high", mood="upset"): 1,
        k("retail_complaints_acknowledged_total"): 2,
        k("retail_complaints_resolved_total", first_contact="true"): 2,
        k("retail_complaints_reopened_total"): 1,
        **{k("retail_resolution_steps_total", step=step): 2 * taken for step, taken in STEPS.items()},
        **{k("retail_reopened_resolution_steps_total", step=step): 1 * taken for step, taken in STEPS.items()},
        k("retail_csat_surveys_issued_total"): 2,
        k("retail_csat_score_count"): 2,
        k("retail_csat_score_sum"): 8,
        k("retail_csat_score_bucket", le="3.0"): 1,
        k("retail_csat_score_bucket", le="5.0"): 2,
        k("retail_complaint_acknowledge_seconds_count"): 2,
        k("retail_complaint_resolve_seconds_count"): 2,
        k("retail_return_requests_total", kind="refund", tender="cash", receipt="yes"): 4,
        k("retail_returns_total", kind="refund", tender="cash", decision="rejected"): 2,
        k("retail_returns_total", kind="refund", tender="cash", decision="approved"): 1,
        k("retail_returns_total", kind="refund", tender="cash", decision="declined"): 1,
        k("retail_returns_declined_total", reason="item_condition"): 1,
        k("retail_returns_value_euros_total", kind="refund", tender="cash"): 49.90,
        k("retail_return_rejections_total", rule="return_window"): 2,
        k("retail_escalations_routed_total", tier="coordinator"): 1,
        k("retail_pages_total"): 1,
        k("retail_sla_breaches_total", tier="coordinator", deadline="acknowledge"): 1,
    }


EXCEPTIONS = {"emp-7001": 0, "emp-7002": 1, "emp-7003": 0, "emp-7004": 6}  # of 10 requests each


def returns_by(staff_id: str, exceptions: int, store: str) -> list:
    now = datetime.now(UTC)
    common = {"store_id": store, "region_id": REGION, "kind": "refund", "tender": "cash",
              "amount": {"minor_units": 1990, "currency": "EUR"}, "at": now}
    requests = [ReturnRequested(**common, return_id=uuid4(), receipt_number="R-1", product_category="toys",
                                days_since_purchase=3, requested_by=staff_id) for _ in range(10)]
    granted = [ReturnExceptionGranted(**{**common, "return_id": request.return_id}, rules=["return_window"],
                                      approver="mgr-7000", approver_role="store_manager", requested_by=staff_id)
               for request in requests[:exceptions]]
    return [*requests, *granted]


async def publish_returns(platform, store: str) -> None:
    """Ten return requests by each staff member of the store, and their exceptions (see EXCEPTIONS)."""
    events = [event for staff_id, count in EXCEPTIONS.items() for event in returns_by(staff_id, count, store)]
    await publish_events(platform, RETURNS, [wrap(e, source="/tests", time=e.at) for e in events])


def shift(store: str, starts_at: datetime, ends_at: datetime, role: str = "associate", region: str = REGION,
          **changes) -> ShiftScheduled:
    """A shift at the store as the scheduling service publishes it (a new shift id unless given)."""
    return example(ShiftScheduled, store_id=store, region_id=region, shift_id=uuid4(), role=role, starts_at=starts_at,
                   ends_at=ends_at, **changes)


async def train(platform, store: str, kind: str, attended: list[str], region: str = REGION) -> None:
    """A training session of the kind completed an hour ago by `attended`, then a shift under way at the
    store: once the worker shows that staff member on duty, it has counted the training too (one store's
    scheduling events are read in order)."""
    now = datetime.now(UTC)
    session = example(TrainingCompleted, store_id=store, region_id=region, session_id=uuid4(), kind=kind, attended=attended,
                      at=now - timedelta(hours=1))
    on_duty = shift(store, now - timedelta(hours=1), now + timedelta(hours=8), region=region)
    await publish_events(platform, SCHEDULING, [wrap(session, source="/tests", time=session.at),
                                                wrap(on_duty, source="/tests", time=now)])


async def publish_events(platform, topic: Topic, envelopes: list[Envelope]) -> None:
    """Publishes the events on the topic as the service that owns it does, and waits for the broker's acknowledgements."""
    producer = make_producer(platform, client_id=f"test-{topic.name}")
    await producer.start()
    try:
        await publish(producer, topic, envelopes, platform)
    finally:
        await producer.stop()


async def running_analytics(platform, data_dir: Path) -> AsyncIterator[Analytics]:
    """The worker as its own process for as long as the caller iterates."""
    running = Analytics(platform, str(data_dir))
    running.start()
    try:
        yield running
    finally:
        running.process.stop()


async def chain_api(database_url: str, platform) -> AsyncIterator[Api]:
    """The complaints API with the analytics tests' region and stores besides the demo chain."""
    ensure_topics(platform, ALL_TOPICS)
    async for running in start_api(database_url, platform):
        await add_stores(running, REGION, [STORE, OTHER])
        yield running
