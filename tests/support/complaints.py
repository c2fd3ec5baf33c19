"""The complaints service's real app in-process (its lifespan and relay) with a demo chain of two
regions and three stores, and the requests tests make through its API."""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import httpx

from services.complaints.api.app import build_app
from services.complaints.settings import ComplaintsSettings
from services.shared.auth import mint_token
from services.shared.clock import utc_now
from services.shared.principal import REGION_ROLES, STORE_ROLES, Role
from services.shared.settings import PlatformSettings
from tests.support import ServiceProcess, running_worker_process

STORES = {"hel-kamppi": "uusimaa", "esp-iso-omena": "uusimaa", "tre-koskikeskus": "pirkanmaa"}


@dataclass
class Api:
    client: httpx.AsyncClient
    platform: PlatformSettings
    app: object
    stores: dict[str, str] = field(default_factory=lambda: dict(STORES))  # store → region

    def token(self, role: Role, store: str | None = "hel-kamppi", sub: str = "emp-1042", region: str | None = None) -> dict:
        claims = {}
        if role in STORE_ROLES:
            claims = {"store_id": store, "region_id": region or self.stores[store]}
        elif role in REGION_ROLES:
            claims = {"region_id": region or self.stores[store]}
        bearer = mint_token(self.platform, sub=sub, role=role, now=datetime.now(UTC), ttl=timedelta(hours=1), **claims)
        return {"Authorization": f"Bearer {bearer}"}

    async def file(self, role: Role = Role.associate, store: str = "hel-kamppi", headers: dict | None = None,
                   **overrides) -> httpx.Response:
        body = {
            "store_id": store,
            "customer": {"name": "Aino Virtanen", "email": "aino@example.com", "phone": "+358 40 123 4567"},
            "channel": "in_store",
            "category": "product_quality",
            "severity": "medium",
            "mood": "upset",
            "description": "The kettle leaks.",
            **overrides,
        }
        return await self.client.post("/v1/complaints", json=body, headers={**self.token(role, store), **(headers or {})})

    async def resolve(self, complaint_id: str, store: str = "hel-kamppi", summary: str = "Apologised.",
                      steps: dict[str, bool] | None = None) -> str:
        """Resolves the complaint as an associate of the store (by defusing; with the technique's `steps`
        when given); returns the CSAT survey token."""
        body = {"technique": "defuse", "outcome": "apology", "summary": summary, **({"steps": steps} if steps else {})}
        response = await self.client.post(
            f"/v1/complaints/{complaint_id}/resolve", headers=self.token(Role.associate, store), json=body,
        )
        assert response.status_code == 200, response.text
        return response.json()["csat_token"]


async def start_api(database_url: str, platform: PlatformSettings, clock=utc_now, **settings) -> AsyncIterator[Api]:
    app = build_app(ComplaintsSettings(database_url=database_url, **settings), platform, clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://complaints") as client:
            api = Api(client, platform, app)
            admin = api.token(Role.service, sub="svc-setup")
            for region in sorted(set(STORES.values())):
                assert (await client.put(f"/v1/regions/{region}", json={"name": region.title()}, headers=admin)).status_code == 204
            for store, region in STORES.items():
                response = await client.put(f"/v1/stores/{store}", json={"region_id": region, "name": store}, headers=admin)
                assert response.status_code == 204
            yield api


async def running_worker(database_url: str, platform: PlatformSettings) -> AsyncIterator[ServiceProcess]:
    """The complaints worker as operators run it (`python -m services.complaints.worker`), once ready."""
    bootstrap = platform.kafka_bootstrap_servers
    async for process in running_worker_process("services.complaints.worker", "COMPLAINTS", database_url, bootstrap):
        yield process


async def add_stores(api, region: str, stores: list[str]) -> None:
    """Registers a region and its stores with the complaints service."""
    admin = api.token(Role.service, sub="svc-setup")
    response = await api.client.put(f"/v1/regions/{region}", json={"name": region.title()}, headers=admin)
    assert response.status_code == 204, response.text
    for store in stores:
        response = await api.client.put(f"/v1/stores/{store}", json={"region_id": region, "name": store}, headers=admin)
        assert response.status_code == 204, response.text
        api.stores[store] = region


async def request_return(api, region: str, store: str, purchased_on: date, minor_units: int = 2590,
                         receipt: str | None = "R-1") -> dict:
    """A cash refund of small appliances asked for by an associate of the store; the request as answered."""
    paperwork = {"receipt_number": receipt} if receipt else {"no_receipt_reason": "lost"}
    response = await api.client.post("/v1/returns", headers=api.token(Role.associate, store, region=region), json={
        "store_id": store, "kind": "refund", "tender": "cash", "amount": {"minor_units": minor_units, "currency": "EUR"},
        "product_category": "small-appliances", "purchased_on": purchased_on.isoformat(), **paperwork,
    })
    assert response.status_code == 201, response.text
    return response.json()


async def reject_returns(api, region: str, store: str, count: int) -> list[str]:
    """Return requests that the return-window rule rejects (bought long ago); returns their ids."""
    ids = []
    for _ in range(count):
        body = await request_return(api, region, store, (datetime.now(UTC) - timedelta(days=200)).date())
        assert body["status"] == "rejected" and "return_window" in body["broken_rules"], body
        ids.append(body["id"])
    return ids


def service_env(database_url: str, platform: PlatformSettings, port: int, **settings: str) -> dict[str, str]:
    """The environment of `python -m services.complaints` on `port`, with `settings` as its COMPLAINTS_ variables."""
    return {
        "COMPLAINTS_DATABASE_URL": database_url, "COMPLAINTS_PORT": str(port),
        "RETAIL_KAFKA_BOOTSTRAP_SERVERS": platform.kafka_bootstrap_servers,
        **{f"COMPLAINTS_{name.upper()}": value for name, value in settings.items()},
    }


async def running_service(database_url: str, platform: PlatformSettings, **settings: str) -> AsyncIterator[Api]:
    """The complaints API as operators run it (`python -m services.complaints`, its relay on the real
    broker), with `settings` as its COMPLAINTS_ variables, once ready, for as long as the caller iterates;
    it knows no region nor store yet (`add_stores`)."""
    from tests.support import ready_process
    from tests.support.infra import free_port

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = await ready_process("services.complaints", service_env(database_url, platform, port, **settings), url)
    try:
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            yield Api(client, platform, process, stores={})
    finally:
        process.stop()
