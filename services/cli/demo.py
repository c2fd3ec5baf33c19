"""Demo traffic: seeds a small chain, schedules its staff through the scheduling service's API (whose
published weeks are the on-duty rosters the escalation service routes and pages by), and files a
realistic stream of complaints, returns and CSAT answers through the public API, as store staff would."""

import asyncio
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from zoneinfo import ZoneInfo

import httpx
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.shared.auth import mint_token
from services.shared.principal import STORE_ROLES, Role
from services.shared.settings import PlatformSettings

CHAIN = {
    "uusimaa": ["hel-kamppi", "hel-itis", "esp-iso-omena", "van-jumbo"],
    "pirkanmaa": ["tre-koskikeskus", "tre-ideapark"],
    "varsinais-suomi": ["tku-hansa", "tku-skanssi"],
}
FIRST_NAMES = ["Aino", "Eero", "Helmi", "Juho", "Lea", "Matti", "Onni", "Sofia", "Veera", "Väinö"]
LAST_NAMES = ["Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine", "Heikkinen"]
# (category, weight, typical product category)
CATEGORIES = [
    ("product_quality", 30, "small-appliances"), ("return_refund_exchange", 25, "clothing"),
    ("service", 15, None), ("wait_time", 10, None), ("billing_transaction", 8, "groceries"),
    ("promotion_pricing", 6, "electronics"), ("staff_conduct", 4, None), ("other", 2, None),
]
SEVERITIES = (["low", "medium", "high", "critical"], [35, 40, 20, 5])
MOODS = (["calm", "upset", "angry", "hostile"], [40, 35, 20, 5])
CHANNELS = (["in_store", "phone", "call_centre", "web", "email"], [45, 15, 15, 15, 10])
# The schedule: every store open 08–22 local time every day; each of its staff works the open hours
# of the next days, and each region's coordinator is on duty the same hours.
ZONE = ZoneInfo("Europe/Helsinki")
OPENS, CLOSES = clock_time(8), clock_time(22)
SCHEDULED_DAYS = 7  # today and the six days after it
STAFF = {  # staff id → (role, home site)
    **{f"{role.value.replace('_', '-')}-{store}": (role, store)
       for stores in CHAIN.values() for store in stores
       for role in (Role.associate, Role.coordinator, Role.store_manager)},
    **{f"rc-{region}-1": (Role.regional_coordinator, stores[0]) for region, stores in CHAIN.items()},
}


@dataclass
class Counts:
    complaints: int = 0
    resolved: int = 0
    csat: int = 0
    returns: dict[str, int] = field(default_factory=dict)
    errors: int = 0


class Demo:
    def __init__(self, client: httpx.AsyncClient, platform: PlatformSettings, rng: random.Random) -> None:
        self.client, self.platform, self.rng = client, platform, rng
        self.open: list[tuple[str, str]] = []  # (complaint id, store id)
        self.counts = Counts()

    def headers(self, role: Role, store: str | None = None, sub: str | None = None) -> dict[str, str]:
        region = next((r for r, stores in CHAIN.items() if store in stores), None)
        scope = {"store_id": store, "region_id": region} if role in STORE_ROLES else {}
        token = mint_token(
            self.platform, sub=sub or f"{role.value.replace('_', '-')}-{store or 'hq'}", role=role,
            now=datetime.now(UTC), ttl=timedelta(hours=1), **scope,
        )
        return {"Authorization": f"Bearer {token}"}

    async def seed(self) -> None:
        admin = self.headers(Role.service, sub="demo-seeder")
        for region, stores in CHAIN.items():
            await self._ok(self.client.put(f"/v1/regions/{region}", json={"name": region.title()}, headers=admin))
            for store in stores:
                body = {"region_id": region, "name": store.replace("-", " ").title()}
                await self._ok(self.client.put(f"/v1/stores/{store}", json=body, headers=admin))
        chain_policy = {
            "return_window_days": 30, "receipt_required": True, "approval_amount_minor": 20_000,
            "non_returnable_categories": ["gift-cards", "perishables"], "allowed_tenders": ["cash", "credit", "debit", "gift_card"],
        }
        await self._ok(self.client.put("/v1/return-policy", json=chain_policy, headers=admin))
        strict = {**chain_policy, "return_window_days": 14, "allowed_tenders": ["credit", "debit", "gift_card"]}
        await self._ok(self.client.put("/v1/stores/hel-kamppi/return-policy", json=strict, headers=admin))

    async def schedule(self, scheduling: httpx.AsyncClient) -> datetime:
        """Through the scheduling service: the chain's sites and staff, their shifts from now to the end of
        the next six days, and those weeks published, so that the escalation service pages real on-duty
        people. Safe to repeat: PUTs, and a shift that overlaps one already there is an earlier run's
        (409). Returns when all of today's new shifts have started (none can start in the past)."""
        admin = self.headers(Role.service, sub="demo-seeder")
        hours = {day: [[f"{OPENS:%H:%M}", f"{CLOSES:%H:%M}"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        for region, stores in CHAIN.items():
            await self._ok(scheduling.put(f"/v1/regions/{region}", json={"name": region.title()}, headers=admin))
            for store in stores:
                site = {"region_id": region, "name": store.replace("-", " ").title(), "timezone": ZONE.key,
                        "opening_hours": hours}
                await self._ok(scheduling.put(f"/v1/sites/{store}", json=site, headers=admin))
        for staff_id, (role, site) in STAFF.items():
            body = {"role": role, "home_site_id": site, "hire_date": "2024-01-15", "contracted_hours": 37, "max_hours": 40,
                    "skills": ["register_cash", "register_credit", "register_debit", "register_gift_card", "returns_exchanges"],
                    "contact": {"work_email": f"{staff_id}@retail-care.example"}}  # pages reach make run's local mailbox
            await self._ok(scheduling.put(f"/v1/staff/{staff_id}", json=body, headers=admin))
        on_duty_from, weeks, today = datetime.now(UTC), set(), datetime.now(ZONE).date()
        for day in (today + timedelta(days=offset) for offset in range(SCHEDULED_DAYS)):
            opens, closes = (datetime.combine(day, at, ZONE) for at in (OPENS, CLOSES))
            for staff_id, (_, site) in STAFF.items():
                soonest = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
                if soonest >= closes:
                    break
                if soonest > opens:  # today's shift, from now on
                    on_duty_from = soonest
                weeks.add(day - timedelta(days=day.weekday()))
                shift = {"site_id": site, "staff_id": staff_id, "starts_at": max(opens, soonest).isoformat(),
                         "ends_at": closes.isoformat()}
                await self._ok(scheduling.post("/v1/shifts", json=shift, headers=admin), accept=(409,))
        for week in sorted(weeks):
            for store in (store for stores in CHAIN.values() for store in stores):
                await self._ok(scheduling.post(f"/v1/sites/{store}/weeks/{week}/publish", headers=admin))
        return on_duty_from

    async def step(self) -> None:
        """One customer interaction: mostly new complaints, then work on open ones, returns, surveys."""
        roll = self.rng.random()
        if roll < 0.45 or not self.open:
            await self.file_complaint()
        elif roll < 0.75:
            await self.work_on_complaint()
        else:
            await self.request_return()

    async def file_complaint(self) -> None:
        store = self.rng.choice([s for stores in CHAIN.values() for s in stores])
        category, _, product = self.rng.choices(CATEGORIES, weights=[c[1] for c in CATEGORIES])[0]
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        body = {
            "store_id": store,
            "customer": {"name": f"{first} {last}", "email": f"{first}.{last}{self.rng.randrange(100)}@example.com".lower()},
            "channel": self.rng.choices(*CHANNELS)[0],
            "category": category,
            "severity": self.rng.choices(*SEVERITIES)[0],
            "mood": self.rng.choices(*MOODS)[0],
            "description": f"Customer reports a {category.replace('_', ' ')} problem.",
            **({"product_category": product, "amount": {"minor_units": self.rng.randrange(500, 40_000)}} if product else {}),
        }
        response = await self._ok(self.client.post("/v1/complaints", json=body, headers=self.headers(Role.associate, store)))
        if response is not None:
            self.counts.complaints += 1
            self.open.append((response.json()["id"], store))

    async def work_on_complaint(self) -> None:
        complaint_id, store = self.open.pop(self.rng.randrange(len(self.open)))
        staff = self.headers(Role.associate, store)
        await self._ok(self.client.post(f"/v1/complaints/{complaint_id}/acknowledge", headers=staff))
        if self.rng.random() < 0.3:
            manager = {"assignee": f"store-manager-{store}", "assignee_role": "store_manager"}
            await self._ok(self.client.post(f"/v1/complaints/{complaint_id}/assign", json=manager, headers=staff))
            staff = self.headers(Role.store_manager, store)
        resolution = {
            "technique": self.rng.choice(["defuse", "isolate_core_problem", "address_concerns"]),
            "outcome": self.rng.choice(["refund", "exchange", "store_credit", "repair", "apology"]),
            "summary": "Talked it through with the customer.",
        }
        resolved = await self._ok(self.client.post(f"/v1/complaints/{complaint_id}/resolve", json=resolution, headers=staff))
        if resolved is None:
            return
        self.counts.resolved += 1
        if self.rng.random() < 0.6:
            score = self.rng.choices([1, 2, 3, 4, 5], weights=[5, 8, 15, 35, 37])[0]
            if await self._ok(self.client.post(f"/v1/csat/{resolved.json()['csat_token']}", json={"score": score})):
                self.counts.csat += 1

    async def request_return(self) -> None:
        store = self.rng.choice([s for stores in CHAIN.values() for s in stores])
        has_receipt = self.rng.random() < 0.8
        body = {
            "store_id": store,
            "kind": self.rng.choices(["return", "refund", "exchange"], weights=[40, 40, 20])[0],
            "tender": self.rng.choice(["cash", "credit", "debit", "gift_card"]),
            "amount": {"minor_units": self.rng.choice([1990, 4990, 8990, 24990])},
            "product_category": self.rng.choice(["clothing", "small-appliances", "electronics", "perishables"]),
            "purchased_on": (date.today() - timedelta(days=self.rng.randrange(1, 45))).isoformat(),
            **({"receipt_number": f"R-{self.rng.randrange(10**6):06d}"} if has_receipt else {"no_receipt_reason": "lost"}),
        }
        response = await self._ok(self.client.post("/v1/returns", json=body, headers=self.headers(Role.associate, store)))
        if response is None:
            return
        created = response.json()
        if created["status"] == "pending_approval" or (created["status"] == "rejected" and self.rng.random() < 0.2):
            manager = self.headers(Role.store_manager, store)
            path, decision = ("approve", None) if created["status"] == "pending_approval" else (
                "exception", {"reason": "Long-time customer; goodwill."})
            decided = await self._ok(self.client.post(f"/v1/returns/{created['id']}/{path}", json=decision, headers=manager))
            created = decided.json() if decided is not None else created
        self.counts.returns[created["status"]] = self.counts.returns.get(created["status"], 0) + 1

    async def _ok(self, request, accept: tuple[int, ...] = ()) -> httpx.Response | None:
        try:
            response = await request
        except httpx.TransportError:
            self.counts.errors += 1
            return None
        if response.is_success or response.status_code in accept:
            return response
        self.counts.errors += 1
        return None


async def run_demo(url: str, rate: float, duration_s: float | None, seed: int, platform: PlatformSettings,
                   scheduling_url: str) -> Counts:
    """Seeds the chain and its schedule, then runs about `rate` interactions a second for `duration_s`
    (forever if None)."""
    async with httpx.AsyncClient(base_url=url, timeout=10) as client, \
            httpx.AsyncClient(base_url=scheduling_url, timeout=10) as scheduling:
        demo = Demo(client, platform, random.Random(seed))
        await demo.seed()
        on_duty_from = await demo.schedule(scheduling)
        await asyncio.sleep(max(0.0, (on_duty_from - datetime.now(UTC)).total_seconds()))
        started = time.monotonic()
        total = int(rate * duration_s) if duration_s else None
        with Progress(TextColumn("[bold]demo traffic"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      TextColumn("{task.description}")) as progress:
            task = progress.add_task("", total=total)
            done = 0
            while total is None or done < total:
                await demo.step()
                done += 1
                counts = demo.counts
                progress.update(task, completed=done, description=(
                    f"complaints {counts.complaints} · resolved {counts.resolved} · csat {counts.csat} · "
                    f"returns {sum(counts.returns.values())} · errors {counts.errors}"))
                await asyncio.sleep(max(0.0, started + done / rate - time.monotonic()))
        return demo.counts
