"""The notifications service in-process (its lifespan consuming from the real broker) beside the real
complaints and scheduling APIs, a real SMTP server (aiosmtpd) that keeps what it receives, and the
pages tests publish."""

import email
import email.policy
import http.server
import json
import re
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as Message
from uuid import UUID, uuid4

import httpx
from aiosmtpd.controller import Controller

from services.notifications.api.app import build_app
from services.shared.clock import utc_now
from services.shared.events.complaints import Severity
from services.shared.kafka import ensure_topics
from services.shared.principal import Role
from services.shared.topics import ALL_TOPICS
from services.notifications.settings import NotificationsSettings
from services.shared.events.envelope import Envelope, wrap
from services.shared.events.escalations import Assignee, EscalationPaged, EscalationRaised, EscalationRouted
from services.shared.settings import PlatformSettings
from tests.support import ServiceProcess, eventually, ready_process
from tests.support import complaints as complaints_support
from tests.support import scheduling as scheduling_support
from tests.support.infra import free_port

PUBLIC_URL = "http://notifications"
MANAGER = "mgr-0007@chain.example"
ROUND_THE_CLOCK = "hel-callcentre"  # open round the clock, so a shift can start now whenever the test runs
LINK = re.compile(re.escape(PUBLIC_URL) + r"(/v1/acknowledgements/\S+)")


class Mailbox:
    """An SMTP server on a port of its own that keeps every message; stopped and started again on the same port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[Message] = []
        self.controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd's handler hook
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str, complaint_id: UUID) -> list[Message]:
        return [m for m in self.messages if m["To"] == address and str(complaint_id) in m.get_content()]


class WebhookReceiver:
    """A real HTTP server on a port of its own, as a chat tool's or an SMS gateway's webhook: keeps every
    request (headers, JSON body) and answers with `status`, which the test may change."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:  # noqa: ANN002 - quiet
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/on-duty"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def bodies(self) -> list[dict]:
        return [json.loads(body) for _, body in self.requests]


def link_in(message: Message) -> str:
    """The acknowledge link's path, from the message's text."""
    return LINK.search(message.get_content()).group(1)


class ShiftedClock:
    """The real time, moved forward by the test."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Service:
    client: httpx.AsyncClient
    app: object
    clock: ShiftedClock


async def start_service(database_url: str, platform: PlatformSettings, mailbox: Mailbox, *, scheduling_app, complaints_app,
                        **settings) -> AsyncIterator[Service]:
    clock = ShiftedClock()
    configured = NotificationsSettings(
        database_url=database_url, public_url=PUBLIC_URL, smtp_port=mailbox.port, **{"retry_base_s": 0.2, "retry_cap_s": 1.0,
                                                                                     **settings},
    )
    app = build_app(configured, platform, clock, scheduling=httpx.ASGITransport(app=scheduling_app),
                    complaints=httpx.ASGITransport(app=complaints_app))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL) as client:
            yield Service(client, app, clock)


def paged(complaint_id: str, staff_id: str | None, tier: str = "store_manager", store_id: str = "hel-kamppi",
          region_id: str = "uusimaa") -> Envelope:
    """A page about the complaint, in its envelope, as the escalation worker publishes it."""
    page = EscalationPaged(
        store_id=store_id, region_id=region_id, complaint_id=complaint_id, page_id=uuid4(),
        recipient=Assignee(tier=tier, staff_id=staff_id), reason="severity critical", at=datetime.now(UTC),
    )
    return wrap(page, source="/tests", time=page.at, subject=complaint_id)


def service_env(database_url: str, platform: PlatformSettings, mailbox: Mailbox, scheduling_url: str, port: int,
                **settings: str) -> dict[str, str]:
    """The environment of `python -m services.notifications` on `port`, with `settings` as its NOTIFICATIONS_ variables."""
    return {
        "NOTIFICATIONS_DATABASE_URL": database_url, "NOTIFICATIONS_PORT": str(port), "NOTIFICATIONS_PUBLIC_URL": PUBLIC_URL,
        "NOTIFICATIONS_SCHEDULING_URL": scheduling_url, "NOTIFICATIONS_SMTP_PORT": str(mailbox.port),
        "RETAIL_KAFKA_BOOTSTRAP_SERVERS": platform.kafka_bootstrap_servers,
        **{f"NOTIFICATIONS_{name.upper()}": value for name, value in settings.items()},
    }


async def running_service(database_url: str, platform: PlatformSettings, mailbox: Mailbox, scheduling_url: str,
                          **settings: str) -> ServiceProcess:
    """The service as operators run it (`python -m services.notifications`), once ready; the caller stops it."""
    port = free_port()
    env = service_env(database_url, platform, mailbox, scheduling_url, port, **settings)
    return await ready_process("services.notifications", env, f"http://127.0.0.1:{port}")


async def add_manager(scheduling, staff_id: str, site: str = "hel-kamppi", region: str = "uusimaa") -> str:
    """A store manager with a work e-mail in a scheduling service that has no chain yet; returns the address."""
    from services.shared.principal import Role
    from tests.support.scheduling import SITES, staff_body

    admin = scheduling.admin()
    assert (await scheduling.client.put(f"/v1/regions/{region}", json={"name": region}, headers=admin)).status_code == 204
    assert (await scheduling.client.put(f"/v1/sites/{site}", json=SITES[site], headers=admin)).status_code == 204
    address = f"{staff_id}@chain.example"
    entry = staff_body(Role.store_manager, site, contact={"work_email": address})
    assert (await scheduling.client.put(f"/v1/staff/{staff_id}", json=entry, headers=admin)).status_code == 204
    return address


def routed(complaint_id: str, staff_id: str | None, tier: str, store_id: str = "hel-kamppi",
           region_id: str = "uusimaa") -> Envelope:
    """The complaint's routing, in its envelope, as the escalation worker publishes it."""
    now = datetime.now(UTC)
    event = EscalationRouted(
        store_id=store_id, region_id=region_id, complaint_id=complaint_id, assignee=Assignee(tier=tier, staff_id=staff_id),
        acknowledge_by=now + timedelta(minutes=15), resolve_by=now + timedelta(hours=4), reason="severity critical", at=now,
    )
    return wrap(event, source="/tests", time=now, subject=complaint_id)


def raised(complaint_id: str, staff_id: str | None, tier: str, store_id: str = "hel-kamppi",
           region_id: str = "uusimaa") -> Envelope:
    """The complaint raised to the tier by its SLA, in its envelope, as the escalation worker publishes it."""
    now = datetime.now(UTC)
    event = EscalationRaised(
        store_id=store_id, region_id=region_id, complaint_id=complaint_id, from_tier="associate",
        assignee=Assignee(tier=tier, staff_id=staff_id), acknowledge_by=now + timedelta(minutes=15),
        resolve_by=now + timedelta(hours=4), reason="acknowledge deadline passed at tier associate", at=now,
    )
    return wrap(event, source="/tests", time=now, subject=complaint_id)


@dataclass
class Chain:
    complaints: complaints_support.Api
    scheduling: scheduling_support.Api
    notifications: Service
    mailbox: Mailbox

    async def critical_complaint(self, store: str = "hel-kamppi") -> str:
        response = await self.complaints.file(store=store, severity=Severity.critical)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    async def complaint_status(self, complaint_id: str, store: str = "hel-kamppi") -> str:
        response = await self.complaints.client.get(
            f"/v1/complaints/{complaint_id}", headers=self.complaints.token(Role.store_manager, store, sub="mgr-0007"))
        assert response.status_code == 200, response.text
        return response.json()["status"]

    async def set_contact(self, staff_id: str, role: Role | None = None, **contact: str) -> None:
        """Gives the staff member (of the seeded chain, or a new one of `role` at hel-kamppi) these work
        contact channels in the directory."""
        role, site = scheduling_support.STAFF.get(staff_id, (role or Role.senior_manager, "hel-kamppi"))
        entry = scheduling_support.staff_body(role, site, contact=contact)
        response = await self.scheduling.client.put(f"/v1/staff/{staff_id}", json=entry, headers=self.scheduling.admin())
        assert response.status_code == 204, response.text

    async def prefer(self, staff_id: str, **preferences) -> httpx.Response:
        """Sets the staff member's notification preferences as they would, with their own token."""
        role, site = scheduling_support.STAFF.get(staff_id, (Role.senior_manager, "hel-kamppi"))
        headers = self.scheduling.token(role, site if role is not Role.senior_manager else None, sub=staff_id)
        return await self.notifications.client.put("/v1/preferences/me", json=preferences, headers=headers)

    async def mail(self, address: str, complaint_id: str, count: int = 1) -> list:
        async def arrived():
            found = self.mailbox.to(address, complaint_id)
            return found if len(found) >= count else None

        return await eventually(arrived, what=f"{count} page(s) to {address}")


async def start_chain(new_database, platform, store_url: str | None = None, **settings) -> AsyncIterator[Chain]:
    """Complaints, scheduling and notifications on PostgreSQL (notifications on `store_url` when given)."""
    ensure_topics(platform, ALL_TOPICS)
    mailbox = Mailbox()
    mailbox.start()
    async for complaints in complaints_support.start_api(await new_database(), platform):
        async for scheduling in scheduling_support.start_api(await new_database(), platform, clock=utc_now):
            async for notifications in start_service(store_url or await new_database(), platform, mailbox,
                                                     scheduling_app=scheduling.app, complaints_app=complaints.app, **settings):
                yield Chain(complaints, scheduling, notifications, mailbox)
    if mailbox.controller.loop.is_running():
        mailbox.stop()
