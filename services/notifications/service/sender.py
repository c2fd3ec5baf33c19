"""The sender: the shared delivery engine (`services.shared.delivery.engine`, which holds the
guarantees) over the deliveries table, with what only this service knows — whom a delivery reaches
(the person named, whoever is on duty, or each member of a group), over which of their channels in
which order, whether their quiet hours hold it back, and what the message says."""

import hashlib
import random
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta

import orjson
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notifications import metrics
from services.notifications.domain import links, preferences
from services.notifications.domain.messages import ACKNOWLEDGED, URGENT, Kind, message
from services.notifications.domain.recipients import next_step
from services.notifications.service.directory import Directory
from services.notifications.settings import NotificationsSettings
from services.notifications.store.models import Delivery, Preference
from services.shared.clock import Clock
from services.shared.db import insert_statement
from services.shared.delivery.channels import Channel, Sends
from services.shared.delivery.engine import Addressed, Cancelled, Deferred, Deliverer, DeliveryMetrics, DeliveryStatus
from services.shared.events.deadletter import DeadLetter
from services.shared.events.fields import Tier
from services.shared.outbox import add_events
from services.shared.principal import Role
from services.shared.topics import COORDINATION, ESCALATIONS, SCHEDULING, Topic

CONSUMER = "notifications"
TOPICS = (ESCALATIONS, COORDINATION, SCHEDULING)
TOPIC_OF = {
    Kind.page: ESCALATIONS, Kind.tier_raise: ESCALATIONS, Kind.assignment: ESCALATIONS,
    Kind.policy_proposed: COORDINATION, Kind.policy_decided: COORDINATION,
    Kind.training_proposed: SCHEDULING, Kind.training_scheduled: SCHEDULING, Kind.training_cancelled: SCHEDULING,
}


def make_deliverer(sessions: async_sessionmaker, directory: Directory, channels: Mapping[Channel, Sends],
                   settings: NotificationsSettings, clock: Clock, rng: random.Random) -> Deliverer:
    link_key = settings.link_signing_key.get_secret_value().encode()

    async def address(delivery: Delivery, now: datetime) -> Addressed:
        if delivery.group_role is not None:
            raise Cancelled(f"sent on to each of {await _send_on(sessions, directory, delivery, now)} people")
        staff_id = delivery.staff_id or await directory.on_duty(Tier(delivery.tier), delivery.store_id, delivery.region_id)
        recipient = await directory.recipient(staff_id)
        async with sessions() as session:
            preference = await session.get(Preference, staff_id)
        kind = Kind(delivery.kind)
        if preference is not None and kind not in URGENT:
            until = preferences.quiet_until(now, preference.quiet_from, preference.quiet_until, preference.time_zone)
            if until is not None:
                raise Deferred(until)
        preferred = [Channel(c) for c in preference.channels.split(",")] if preference else preferences.DEFAULT_CHANNELS
        acknowledge_url = expires_at = None
        if kind in ACKNOWLEDGED:
            expires_at = now + timedelta(minutes=settings.link_ttl_minutes)
            acknowledge_url = f"{settings.public_url}/v1/acknowledgements/{links.sign(delivery.id, expires_at, link_key)}"
        said = message(kind, store_id=delivery.store_id, region_id=delivery.region_id, complaint_id=delivery.complaint_id,
                       about=delivery.about, at=delivery.event_at, acknowledge_url=acknowledge_url, expires_at=expires_at,
                       step=delivery.step)
        follows_up = kind is Kind.page and next_step(delivery.step, Tier(delivery.tier)) is not None
        return Addressed(
            routes=preferences.routes(preferred, recipient.addresses), message=said,
            recorded={"staff_id": recipient.staff_id, "recipient_role": recipient.role,
                      "follow_up_at": now + timedelta(minutes=settings.follow_up_minutes) if follows_up else None},
        )

    def given_up(session: AsyncSession, delivery: Delivery, error: str, now: datetime) -> None:
        topic = TOPIC_OF[Kind(delivery.kind)]
        add_events(session, topic.dlq, [_dead_letter(topic, delivery, error, now)], now, subject=str(delivery.event_id))

    return Deliverer(
        sessions=sessions, table=Delivery, channels=channels, settings=settings, clock=clock, rng=rng, address=address,
        metrics=DeliveryMetrics(metrics.DELIVERIES, metrics.DELIVERY_SECONDS), given_up=given_up,
        started=lambda delivery: delivery.event_at,
    )


async def _send_on(sessions: async_sessionmaker, directory: Directory, delivery: Delivery, now: datetime) -> int:
    """One delivery per member of the delivery's group, each due now; a second pass adds nothing."""
    members = await directory.members(Role(delivery.group_role), delivery.region_id)
    async with sessions.begin() as session:
        for staff_id in members:
            await session.execute(
                insert_statement(session, Delivery).values(
                    **copied(delivery), id=uuid.uuid5(delivery.id, staff_id), staff_id=staff_id, group_role=None,
                    follows=delivery.id, status=DeliveryStatus.pending, attempts=0, due_at=now, created_at=now,
                ).on_conflict_do_nothing(index_elements=["id"])
            )
    return len(members)


def copied(delivery: Delivery) -> dict:
    """What a delivery sent on from another (a group's member, a follow-up) keeps of it."""
    names = ("event_id", "kind", "step", "complaint_id", "store_id", "region_id", "tier", "about", "event_at")
    return {name: getattr(delivery, name) for name in names}


async def measure_overdue(sessions: async_sessionmaker, now: datetime) -> None:
    """Sets the overdue gauge: deliveries still pending two minutes after they were recorded, by kind
    (a delivery held back by quiet hours too; a page never is)."""
    async with sessions() as session:
        counts = dict((await session.execute(
            select(Delivery.kind, func.count()).where(Delivery.status == DeliveryStatus.pending,
                                                      Delivery.created_at < now - timedelta(minutes=2))
            .group_by(Delivery.kind)
        )).all())
    for kind in Kind:
        metrics.OVERDUE.labels(kind).set(counts.get(kind, 0))


def _dead_letter(topic: Topic, delivery: Delivery, error: str, now: datetime) -> DeadLetter:
    """The undeliverable notification's dead letter: why, and its ids (no contact channel). The consumed
    record's partition and offset are not kept once the delivery is recorded: the letter gives 0 for
    both and identifies the event by its id in the value."""
    value = orjson.dumps({
        "event_id": str(delivery.event_id), "delivery_id": str(delivery.id), "kind": delivery.kind,
        "complaint_id": str(delivery.complaint_id) if delivery.complaint_id else None, "store_id": delivery.store_id,
        "region_id": delivery.region_id, "tier": delivery.tier, "staff_id": delivery.staff_id, "channel": delivery.channel,
    })
    return DeadLetter(
        topic=topic.name, partition=0, offset=0, key=delivery.store_id or delivery.region_id, value=value.decode(),
        value_size=len(value), value_sha256=hashlib.sha256(value).hexdigest(),
        reason=f"undeliverable after {delivery.attempts} attempts: {error}", consumer=CONSUMER, at=now,
    )
