"""The notifications service in-process (its lifespan consuming from the real broker) beside the real
complaints and scheduling APIs, a real SMTP server (aiosmtpd) that keeps what it receives, and the
pages tests publish."""

import email
import email.policy
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as Message
from uuid import UUID, uuid4

import httpx
from aiosmtpd.controller import Controller

from services.notifications.api.app import build_app
from services.notifications.settings import NotificationsSettings
from services.shared.events.envelope import Envelope, wrap
from services.shared.events.escalations import Assignee, EscalationPaged, EscalationRaised
from services.shared.settings import PlatformSettings
from tests.support import ServiceProcess, ready_process
from tests.support.infra import free_port

PUBLIC_URL = "http://notifications"
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


async def running_service(database_url: str, platform: PlatformSettings, mailbox: Mailbox, scheduling_url: str,
                          **settings: str) -> ServiceProcess:
    """The service as operators run it (`python -m services.notifications`), once ready; the caller stops it."""
    port = free_port()
    return await ready_process("services.notifications", {
        "NOTIFICATIONS_DATABASE_URL": database_url, "NOTIFICATIONS_PORT": str(port), "NOTIFICATIONS_PUBLIC_URL": PUBLIC_URL,
        "NOTIFICATIONS_SCHEDULING_URL": scheduling_url, "NOTIFICATIONS_SMTP_PORT": str(mailbox.port),
        "RETAIL_KAFKA_BOOTSTRAP_SERVERS": platform.kafka_bootstrap_servers,
        **{f"NOTIFICATIONS_{name.upper()}": value for name, value in settings.items()},
    }, f"http://127.0.0.1:{port}")


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
