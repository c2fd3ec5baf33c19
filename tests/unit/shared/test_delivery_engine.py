"""The delivery engine over a real (SQLite) store with channels of the test's own: a channel failing in
a way nobody foresaw fails that route and the next one takes the message; with no route left the
attempt is retried later; the sender itself never stops; a message the channel may have, though it
never answered, is taken as sent and never sent again."""

import random
import uuid
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from services.shared.db import UtcDateTime
from services.shared.delivery.channels import Channel, ChannelSettings, InDoubt, Message, Route
from services.shared.delivery.engine import IN_DOUBT, Addressed, Deliverer, DeliveryColumns, DeliveryMetrics, DeliveryStatus

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
REGISTRY = CollectorRegistry()
METRICS = DeliveryMetrics(Counter("t_deliveries_total", "", ["channel", "outcome"], registry=REGISTRY),
                          Histogram("t_delivery_seconds", "", ["channel"], registry=REGISTRY))


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime}


class Row(DeliveryColumns, Base):
    __tablename__ = "rows"


class Broken:
    async def send(self, delivery_id, address, message, now, handing_over) -> None:
        await handing_over()
        raise UnicodeEncodeError("ascii", address, 5, 6, "ordinal not in range(128)")


class Kept:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, delivery_id, address, message, now, handing_over) -> None:
        await handing_over()
        self.sent.append(address)


class KeptWithoutAnswer(Kept):
    """A relay that takes the message but whose answer never comes (it timed out)."""

    async def send(self, delivery_id, address, message, now, handing_over) -> None:
        await super().send(delivery_id, address, message, now, handing_over)
        raise InDoubt("SMTPTimeoutError")


async def engine_with(tmp_path, channels, routes):
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    delivery_id = uuid.uuid4()
    async with sessions.begin() as session:
        session.add(Row(id=delivery_id, status=DeliveryStatus.pending, attempts=0, due_at=NOW, created_at=NOW))

    async def address(delivery, now) -> Addressed:
        return Addressed(routes=routes, message=Message("Subject", "Body", "Short"))

    deliverer = Deliverer(sessions=sessions, table=Row, channels=channels, settings=ChannelSettings(), clock=lambda: NOW,
                          rng=random.Random(1), address=address, metrics=METRICS)
    return deliverer, sessions, delivery_id


async def test_a_channel_failing_unforeseen_falls_over_to_the_next(tmp_path):
    kept = Kept()
    deliverer, sessions, delivery_id = await engine_with(
        tmp_path, {Channel.email: Broken(), Channel.sms: kept},
        [Route(Channel.email, "aino.mäkinen@example.com"), Route(Channel.sms, "+358401234567")])
    await deliverer.deliver_due()
    async with sessions() as session:
        row = await session.get(Row, delivery_id)
    assert (row.status, row.channel, kept.sent) == ("sent", "sms", ["+358401234567"])


async def test_with_no_channel_left_the_attempt_is_retried_and_the_sender_goes_on(tmp_path):
    deliverer, sessions, delivery_id = await engine_with(
        tmp_path, {Channel.email: Broken()}, [Route(Channel.email, "aino.mäkinen@example.com")])
    await deliverer.deliver_due()  # raises nothing
    async with sessions() as session:
        row = await session.get(Row, delivery_id)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "email: UnicodeEncodeError")
    assert NOW < row.due_at <= NOW + timedelta(seconds=ChannelSettings().retry_base_s)


async def test_a_message_handed_over_without_an_answer_is_taken_as_sent_and_never_sent_again(tmp_path):
    relay, sms = KeptWithoutAnswer(), Kept()
    deliverer, sessions, delivery_id = await engine_with(
        tmp_path, {Channel.email: relay, Channel.sms: sms},
        [Route(Channel.email, "aino.makinen@example.com"), Route(Channel.sms, "+358401234567")])
    in_doubt = METRICS.deliveries.labels("email", "in_doubt")._value.get()
    await deliverer.deliver_due()
    await deliverer.deliver_due()
    async with sessions() as session:
        row = await session.get(Row, delivery_id)
    assert (row.status, row.channel, row.last_error, row.attempts) == ("sent", "email", IN_DOUBT, 1)
    assert (relay.sent, sms.sent) == (["aino.makinen@example.com"], [])
    assert METRICS.deliveries.labels("email", "in_doubt")._value.get() == in_doubt + 1
