"""The analytics worker: counts every complaint, escalation, return and scheduling event into its
store's running totals, hourly and daily windows and open loss-prevention signals, and every coordination
event into its region's totals, exactly once (each remembers how far it counted). The agents read
and write; what a batch changes is worked out in `services.analytics.handlers`."""

from collections.abc import Iterator

import faust

from services.analytics.handlers import Received, StoreTally, count_regions
from services.analytics.settings import AnalyticsSettings
from services.analytics.topics import APP_ID, REGIONS_TABLE, REPORTS_TABLE, SOURCES, TABLES, TOTALS_TABLE
from services.shared.logs import configure_logging
from services.shared.settings import PlatformSettings
from services.shared.streams import Batch, Inputs, batches, source, stream_app, table
from services.shared.topics import COORDINATION, SIGNALS

settings, platform = AnalyticsSettings(), PlatformSettings()
configure_logging(APP_ID, platform.log_level)  # before the app, which keeps the log handlers it finds
app = stream_app(APP_ID, platform, settings.data_dir, consumer_group_instance_id=settings.instance_id)
inputs = Inputs(app, *SOURCES, COORDINATION)
signals = source(app, SIGNALS)
# A store's totals are a few hundred KB: restored 1,000 at a time (faust's default), 500 stores' took
# 190 MiB more at once.
totals = table(app, TOTALS_TABLE, TABLES[TOTALS_TABLE], platform, recovery_buffer=8)
reports, regions = (table(app, name, TABLES[name], platform) for name in (REPORTS_TABLE, REGIONS_TABLE))
stores = StoreTally(totals, reports, settings.signal_rules, settings.window_rules, settings.decoded_stores)


@app.on_partitions_revoked.connect
async def forget(_app: faust.App, revoked: set, **_: object) -> None:
    stores.forget()


@app.agent(inputs.channel(*SOURCES))
async def tally(stream: faust.StreamT) -> None:
    # Larger batches than the escalation worker's: a quarter second later on a dashboard costs
    # nothing, and the wait for the windows' delivery (below) is paid once per batch.
    async for batch in batches(stream, wait_s=0.25):
        await count(batch)


async def count(batch: Batch) -> None:
    """Counts the batch and writes what it changed, a run of stores at a time. What it encoded (a
    store's totals are a few hundred KB) is let go when this returns, not kept while the agent waits
    for the next batch."""
    for run in stores.runs(await received(batch)):
        counted = stores.count(current(run))
        for signal in counted.signals:
            await batch.send(signals, SIGNALS, signal)
        batch.write(reports, counted.reports)
        # The windows and signals are delivered before the totals that say their events were counted:
        # after a crash in between, the events are counted again into the totals and skipped by the
        # windows (which know their offsets), so neither counts an event twice or misses one.
        await batch.done()
        await app.producer.flush()
        batch.write(totals, counted.totals)


@app.agent(inputs.channel(COORDINATION))
async def tally_coordination(stream: faust.StreamT) -> None:
    async for batch in batches(stream, wait_s=0.25):
        batch.write(regions, count_regions(regions, current(await received(batch))))


async def received(batch: Batch) -> list[Received[faust.EventT]]:
    """The batch's valid events (the others go to their topic's dead-letter queue)."""
    return [Received(envelope, (event.message.topic, event.message.offset), event)
            async for event, envelope in inputs.valid(batch)]


def current(events: list[Received[faust.EventT]]) -> Iterator[Received[faust.EventT]]:
    """The events, each made current as the handler takes it: a faust table looks a key up only in
    the current event's partition, so a store read while another partition's event was current would
    read as new, and its fresh totals and windows would overwrite what it had."""
    for event in events:
        Batch.make_current(event.origin)
        yield event
