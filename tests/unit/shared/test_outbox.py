"""The outbox's pure parts: which table and source a session's events go to, and the relay's pause."""

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from services.shared.db import UtcDateTime, make_engine
from services.shared.events.complaints import ComplaintFiled
from services.shared.events.envelope import decode
from services.shared.outbox import MAX_RETRY_PAUSE_S, Outbox, OutboxColumns, Relay, RelayThread, add_events, retry_pause
from services.shared.settings import PlatformSettings
from services.shared.topics import COMPLAINTS
from tests.support import eventually
from tests.support.builders import example

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class ComplaintsBase(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime}


class SchedulingBase(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime}


class ComplaintsOutbox(OutboxColumns, ComplaintsBase):
    __tablename__ = "outbox"


class SchedulingOutbox(OutboxColumns, SchedulingBase):
    __tablename__ = "outbox"


def _session(outbox: Outbox):
    return outbox.sessions(make_engine("sqlite://"))()


def test_events_go_to_the_sessions_own_outbox_keyed_by_the_topic_under_the_services_source():
    first = example(ComplaintFiled, store_id="hel-kamppi", complaint_id=uuid4())
    second = example(ComplaintFiled, store_id="tre-koskikeskus", complaint_id=uuid4())
    complaints = _session(Outbox(ComplaintsOutbox, source="/services/complaints"))
    scheduling = _session(Outbox(SchedulingOutbox, source="/services/scheduling"))

    add_events(complaints, COMPLAINTS, [first, second], NOW, subject="c-1")
    add_events(scheduling, COMPLAINTS, [first], NOW, subject="s-1")

    rows = list(complaints.sync_session.new)
    assert {type(row) for row in rows} == {ComplaintsOutbox}
    assert sorted((row.topic, row.key) for row in rows) == [
        ("complaints", "hel-kamppi"), ("complaints", "tre-koskikeskus")
    ]
    envelopes = [decode(row.payload, COMPLAINTS.event_classes) for row in rows]
    assert {(envelope.source, envelope.subject, envelope.time) for envelope in envelopes} == {
        ("/services/complaints", "c-1", NOW)
    }
    assert {row.event_id for row in rows} == {envelope.id for envelope in envelopes}
    assert {envelope.data for envelope in envelopes} == {first, second}
    [other] = scheduling.sync_session.new
    assert isinstance(other, SchedulingOutbox)
    assert decode(other.payload, COMPLAINTS.event_classes).source == "/services/scheduling"


def test_a_session_without_an_outbox_refuses_events():
    with pytest.raises(LookupError, match="no outbox"):
        add_events(AsyncSession(), COMPLAINTS, [example(ComplaintFiled)], NOW, subject="c-1")


def test_the_relays_pause_after_failures_doubles_up_to_a_bound():
    assert [retry_pause(0.2, failures) for failures in (1, 2, 3)] == [0.4, 0.8, 1.6]
    assert retry_pause(0.2, 10) == MAX_RETRY_PAUSE_S


async def test_a_commit_made_while_the_relay_publishes_is_published_without_waiting_for_the_next_poll():
    class Publishing(Relay):
        """A relay whose first batch sees a commit wake it mid-publish; it counts its batches."""

        batches = 0

        async def publish_batch(self, producer) -> int:
            self.batches += 1
            if self.batches == 1:
                self.wake()  # another request committed events while this batch was on its way to Kafka
            return 1

    relay = Publishing(None, ComplaintsOutbox, None, PlatformSettings(), lambda: NOW, client_id="test", poll_s=3600,
                       batch_size=500, lease_ttl=timedelta(seconds=15))
    relay.producer = object()  # never used: publish_batch above sends nothing
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        async def second_batch() -> bool:
            return relay.batches >= 2

        await eventually(second_batch, timeout_s=10, what="the batch the wake-up asked for")  # the poll is an hour away
    finally:
        stop.set()
        relay.producer = None
        await running


async def test_a_relay_that_stopped_on_an_error_reports_not_ready_and_lets_the_service_stop():
    class Broken(Relay):
        async def run(self, stop: asyncio.Event) -> None:
            raise ValueError("a defect in the relay")

    relay = Broken(None, ComplaintsOutbox, None, PlatformSettings(), lambda: NOW, client_id="test", poll_s=3600,
                   batch_size=500, lease_ttl=timedelta(seconds=15))
    thread = RelayThread(relay, make_engine("sqlite://"))
    await thread.start()

    async def ready_says_stopped() -> bool:
        try:
            await thread.ready()
        except ConnectionError as error:
            return "stopped" in str(error)
        return False

    await eventually(ready_says_stopped, timeout_s=10, what="readiness to report the relay stopped")
    await thread.stop()  # raised RuntimeError: its loop was closed


async def test_readiness_asked_of_a_relay_whose_loop_stopped_but_is_not_closed_yet_answers_not_ready():
    relay = Relay(None, ComplaintsOutbox, None, PlatformSettings(), lambda: NOW, client_id="test", poll_s=3600,
                  batch_size=500, lease_ttl=timedelta(seconds=15))
    thread = RelayThread(relay, make_engine("sqlite://"))
    thread._loop = asyncio.new_event_loop()  # the moment between the relay's loop stopping and closing
    try:
        with pytest.raises(ConnectionError, match="did not answer"):
            await thread.ready()  # waited forever, and a CI run with it
    finally:
        thread._loop.close()
