"""The scheduling service's real app in-process (its lifespan and relay) with a settable clock and a
small chain: a store and a 24-hour call centre in Helsinki, a service desk in New York; the service
as its own process; and the requests tests make through its API."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import httpx

from services.scheduling.api.app import build_app
from services.scheduling.settings import SchedulingSettings
from services.shared.auth import mint_token
from services.shared.clock import utc_now
from services.shared.principal import REGION_ROLES, STORE_ROLES, Role
from services.shared.settings import PlatformSettings
from tests.support import ServiceProcess, eventually, ready_process, running_worker_process
from tests.support.infra import free_port

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Before both 2027 DST changes (New York 14 March, Europe 28 March), so the tests can schedule across them.
START = datetime(2027, 3, 1, 6, 0, tzinfo=UTC)
SITES = {
    "hel-kamppi": {
        "region_id": "uusimaa", "name": "Kamppi", "kind": "store", "timezone": "Europe/Helsinki",
        "opening_hours": {**{day: [["09:00", "21:00"]] for day in WEEKDAYS[:6]}, "sun": [["10:00", "18:00"]]},
        "exceptions": {"2027-04-02": []},  # Good Friday: closed
    },
    "hel-callcentre": {
        "region_id": "uusimaa", "name": "Call centre", "kind": "call_centre", "timezone": "Europe/Helsinki",
        "opening_hours": {day: [["00:00", "24:00"]] for day in WEEKDAYS},
    },
    "nyc-desk": {
        "region_id": "us-east", "name": "Service desk", "kind": "service_desk", "timezone": "America/New_York",
        "opening_hours": {day: [["08:00", "20:00"]] for day in WEEKDAYS},
    },
}
STAFF = {  # id → (role, home site)
    "mgr-0007": (Role.store_manager, "hel-kamppi"),
    "mgr-0008": (Role.store_manager, "hel-kamppi"),
    "emp-1042": (Role.associate, "hel-kamppi"),
    "emp-1043": (Role.associate, "hel-kamppi"),
    "cc-2001": (Role.call_centre_agent, "hel-callcentre"),
    "mgr-0100": (Role.store_manager, "hel-callcentre"),
    "rc-uusimaa-1": (Role.regional_coordinator, "hel-kamppi"),
    "rc-uusimaa-2": (Role.regional_coordinator, "hel-kamppi"),
    "emp-3001": (Role.associate, "nyc-desk"),
    "mgr-3000": (Role.store_manager, "nyc-desk"),
}


class Clock:
    """The service's clock, moved by the test."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Api:
    client: httpx.AsyncClient
    platform: PlatformSettings
    app: object
    clock: Clock
    sites: dict[str, dict] = field(default_factory=lambda: dict(SITES))

    def token(self, role: Role, site: str | None = "hel-kamppi", sub: str = "mgr-0007", region: str | None = None) -> dict:
        claims = {}
        if role in STORE_ROLES:
            claims = {"store_id": site, "region_id": region or self.sites[site]["region_id"]}
        elif role in REGION_ROLES:
            claims = {"region_id": region or self.sites[site]["region_id"]}
        bearer = mint_token(self.platform, sub=sub, role=role, now=datetime.now(UTC), ttl=timedelta(hours=1), **claims)
        return {"Authorization": f"Bearer {bearer}"}

    def admin(self) -> dict:
        return self.token(Role.senior_manager, None, sub="sm-0001")

    async def shift(self, staff: str, site: str, starts_at: datetime, ends_at: datetime, **headers) -> httpx.Response:
        body = {"site_id": site, "staff_id": staff, "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()}
        return await self.client.post("/v1/shifts", json=body, headers={**self.admin(), **headers})

    async def publish(self, site: str, week: str) -> httpx.Response:
        return await self.client.post(f"/v1/sites/{site}/weeks/{week}/publish", headers=self.admin())

    async def on_duty(self, at: datetime, **params) -> dict:
        response = await self.client.get("/v1/on-duty", params={"at": at.isoformat(), **params}, headers=self.admin())
        assert response.status_code == 200, response.text
        return response.json()


def staff_body(role: Role, site: str, **overrides) -> dict:
    return {
        "role": role, "home_site_id": site, "skills": ["register_cash", "returns_exchanges"], "hire_date": "2024-01-15",
        "contracted_hours": 30, "max_hours": 40, **overrides,
    }


async def start_api(database_url: str, platform: PlatformSettings, clock: Clock | None = None,
                    **settings) -> AsyncIterator[Api]:
    clock = clock or Clock()
    app = build_app(SchedulingSettings(database_url=database_url, **settings), platform, clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://scheduling") as client:
            api = Api(client, platform, app, clock)
            await add_chain(api)
            yield api


async def add_chain(api: Api) -> None:
    """The regions, sites (SITES) and staff (STAFF) of the tests' chain, put in the directory as the set-up service does."""
    admin = api.token(Role.service, None, sub="svc-setup")
    for region in sorted({site["region_id"] for site in SITES.values()}):
        response = await api.client.put(f"/v1/regions/{region}", json={"name": region.title()}, headers=admin)
        assert response.status_code == 204, response.text
    for site, body in SITES.items():
        response = await api.client.put(f"/v1/sites/{site}", json=body, headers=admin)
        assert response.status_code == 204, response.text
    for staff, (role, site) in STAFF.items():
        contact = {"work_email": f"{staff}@chain.example", "work_phone": "+358 40 555 0101"}
        response = await api.client.put(f"/v1/staff/{staff}", json=staff_body(role, site, contact=contact), headers=admin)
        assert response.status_code == 204, response.text


def service_env(database_url: str, platform: PlatformSettings, port: int, **settings: str) -> dict[str, str]:
    """The environment of `python -m services.scheduling` on `port`, with `settings` as its SCHEDULING_ variables."""
    return {
        "SCHEDULING_DATABASE_URL": database_url, "SCHEDULING_PORT": str(port),
        "RETAIL_KAFKA_BOOTSTRAP_SERVERS": platform.kafka_bootstrap_servers,
        **{f"SCHEDULING_{name.upper()}": value for name, value in settings.items()},
    }


async def running_service(database_url: str, platform: PlatformSettings) -> AsyncIterator[Api]:
    """The service as operators run it (`python -m services.scheduling`, its relay on the real broker),
    once ready, for as long as the caller iterates; it keeps its own (real) clock, and no chain."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = await ready_process("services.scheduling", service_env(database_url, platform, port), url)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            yield Api(client, platform, process, clock=None)
    finally:
        process.stop()


async def put_on_duty(api: Api, staff: str, site: str, hours: int = 8) -> dict:
    """A published shift of `staff` at `site` from a second from now (a shift cannot start in the
    past), returned once it has begun."""
    for lead_s in (1, 3, 10):  # a busy machine can take the second before the request is checked
        starts = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=lead_s)
        response = await api.shift(staff, site, starts, starts + timedelta(hours=hours))
        if "is in the past" not in response.text:
            break
    assert response.status_code == 201, response.text
    shift = response.json()
    if shift["status"] == "draft":
        published = await api.publish(site, shift["week"])
        assert published.status_code == 200, published.text

    async def begun() -> bool:
        return datetime.now(UTC) >= starts

    await eventually(begun, timeout_s=15, what=f"the shift of {staff} to begin")
    return shift


async def running_worker(database_url: str, platform: PlatformSettings) -> AsyncIterator[ServiceProcess]:
    """The scheduling worker as operators run it (`python -m services.scheduling.worker`), once ready."""
    bootstrap = platform.kafka_bootstrap_servers
    async for process in running_worker_process("services.scheduling.worker", "SCHEDULING", database_url, bootstrap):
        yield process


async def start_worker(database_url: str, platform: PlatformSettings, clock: Clock | None = None,
                       **settings) -> AsyncIterator[object]:
    """The scheduling worker in-process (its lifespan consuming from the real broker) with the test's clock."""
    from services.scheduling.worker import build_worker

    app = build_worker(SchedulingSettings(database_url=database_url, **settings), platform, clock or Clock())
    async with app.router.lifespan_context(app):
        yield app


async def produce(platform: PlatformSettings, topic, envelopes: list) -> None:
    """Publishes the envelopes on the real topic, as the service that owns it does (keyed, in order)."""
    from services.shared.kafka import make_producer, publish, stop_producer

    producer = make_producer(platform, client_id="test-producer")
    await producer.start()
    try:
        await publish(producer, topic, envelopes, platform)
    finally:
        await stop_producer(producer)


async def applied(database_url: str, event_ids: set) -> int:
    """How many of the events the scheduling worker has applied (recorded in its processed_events)."""
    from sqlalchemy import func, select

    from services.scheduling.store.models import ProcessedEvent
    from services.shared.db import make_engine

    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            return await connection.scalar(
                select(func.count()).select_from(ProcessedEvent).where(ProcessedEvent.event_id.in_(event_ids))
            )
    finally:
        await engine.dispose()


async def add_site(api: Api, site: str, body: dict, staff: dict[str, dict]) -> None:
    """A site of the test's own in the directory, with its staff (id → directory entry, see `staff_body`)."""
    api.sites[site] = body
    response = await api.client.put(f"/v1/sites/{site}", json=body, headers=api.admin())
    assert response.status_code == 204, response.text
    for staff_id, entry in staff.items():
        response = await api.client.put(f"/v1/staff/{staff_id}", json=entry, headers=api.admin())
        assert response.status_code == 204, response.text


def complaints_filed(site: str, region: str, moments: list[datetime]) -> list:
    """A complaint filed at the site at each moment, in its envelope, as the complaints service publishes it."""
    from uuid import uuid4

    from services.shared.events.complaints import ComplaintFiled
    from services.shared.events.envelope import wrap
    from tests.support.builders import example

    events = [example(ComplaintFiled, store_id=site, region_id=region, complaint_id=uuid4(), filed_at=at) for at in moments]
    return [wrap(event, source="/tests", time=event.filed_at, subject=str(event.complaint_id)) for event in events]


def returns_requested(site: str, region: str, moments: list[datetime]) -> list:
    """A return requested at the site at each moment, in its envelope, as the complaints service publishes it."""
    from uuid import uuid4

    from services.shared.events.envelope import wrap
    from services.shared.events.returns import ReturnRequested
    from tests.support.builders import example

    events = [example(ReturnRequested, store_id=site, region_id=region, return_id=uuid4(), at=at) for at in moments]
    return [wrap(event, source="/tests", time=event.at, subject=str(event.return_id)) for event in events]


async def directory_with_senior(database_url: str, platform: PlatformSettings, senior: str) -> AsyncIterator[Api]:
    """The scheduling API's staff directory for a sign-in, with a senior manager besides the seeded staff."""
    async for running in start_api(database_url, platform, clock=utc_now):
        body = staff_body(Role.senior_manager, "hel-kamppi",
                          contact={"work_email": f"{senior}@chain.example", "work_phone": "+358 40 555 0199"})
        service = running.token(Role.service, None, sub="svc-setup")
        response = await running.client.put(f"/v1/staff/{senior}", json=body, headers=service)
        assert response.status_code == 204, response.text
        yield running
