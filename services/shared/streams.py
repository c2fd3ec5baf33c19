"""faust-streaming set up the same way for every stream processor (escalation, analytics)."""

import asyncio
import contextlib
import ctypes
import functools
import gc
import inspect
import logging
import sys
import time
import weakref
from collections.abc import (
    AsyncIterator, Awaitable, Callable, Coroutine, Generator, Iterable, Iterator, Mapping, MutableMapping, Sequence,
)
from pathlib import Path
from typing import Any

import faust
import structlog
import uvicorn
from faust.streams import _current_event
from faust.transport.drivers import aiokafka as aiokafka_driver
from mode.services import WaitResults

from services.shared.events.envelope import KAFKA_HEADERS, Envelope, InvalidEvent, decode, encode
from services.shared.kafka import client_options, dead_letter
from services.shared.settings import PlatformSettings
from services.shared.topics import TOPICS, Topic
from services.shared.web import create_app

log = structlog.get_logger()
_M_MMAP_THRESHOLD = -3  # mallopt's parameter, from glibc's malloc.h
COMPACTED = frozenset(topic.name for topic in TOPICS if topic.cleanup_policy == "compact")


class _IdempotentProducer(aiokafka_driver.Producer):
    """faust turns idempotence on only inside exactly_once transactions; at least once wants it too,
    so that a send the client retries is written once and in order."""

    def _settings_extra(self) -> Mapping[str, Any]:
        return {"acks": "all", "enable_idempotence": True}


def _broker_credentials(platform: PlatformSettings) -> faust.SASLCredentials | None:
    """The service's own Kafka user for faust, from the options every other client of it uses."""
    options = client_options(platform)
    if "sasl_mechanism" not in options:
        return None
    return faust.SASLCredentials(username=options["sasl_plain_username"], password=options["sasl_plain_password"],
                                 ssl_context=options["ssl_context"], mechanism=options["sasl_mechanism"])


class _Consumer(aiokafka_driver.Consumer):
    """faust's consumer, committing only what the agents handled. faust drops records it has fetched
    while partitions move between replicas, and relies on reading each partition again from its
    committed offset after the rebalance. Five ways past that lost records when replicas joined:
    - aiokafka does not seek a partition with no committed offset (or 0): it is sent to its beginning;
    - faust acknowledged a record it skipped as belonging to an earlier generation: it is not;
    - faust committed past a record at the head of those handled (its check allows a head one short);
    - faust took the offsets between two records it read one after the other as handled (meant for a
      compacted topic), but its read offset is reset by a seek made while a fetch is handed out, and
      records never handled were committed past;
    - faust hands records out while it sends partitions back to their committed offsets after a
      rebalance that restored no table, and dropped some read again: the flow now waits for the seek.
    Here offsets count as handled only when acknowledged, or when the broker no longer has them (past
    retention, or compacted); a partition whose handled records do not start where its reading stands
    is not committed but read again from there."""

    REREAD_AFTER_S = 30.0  # a partition read again whose head is still missing is read again after this

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.callback = _handing_over(self.callback)
        self._starts: dict[Any, int] = {}  # where each partition's reading began after the rebalance
        self._seeked: dict[Any, int] = {}  # where a compacted topic's partition was sent, until a record arrives
        self._rewound: dict[Any, tuple[int, float]] = {}  # the offset each partition was last sent back to, and when
        self._rewinds: dict[Any, int] = {}  # partitions to send back before the next fetch

    async def wait_first(self, *coros: Any, timeout: Any = None) -> WaitResults:
        # faust hands each record to its streams in a task raced against the flow's suspension (and the
        # consumer's stop and crash: four tasks a record, a fifth of a worker's CPU). A record already
        # handed over needs no race.
        if coros and coros[0] is _HANDED:
            for other in coros[1:]:
                if inspect.iscoroutine(other):
                    other.close()
            return WaitResults([_HANDED], [None], False)
        return await super().wait_first(*coros, timeout=timeout)

    async def perform_seek(self) -> None:
        # With records still handed out while partitions are sent back (faust resumes the flow before
        # it seeks when no table needed restoring), its read offset went past records read again,
        # and they were dropped: a store's totals missed one event.
        flowing = self.flow_active
        self.stop_flow()
        try:
            await super().perform_seek()
        finally:
            if flowing:
                self.resume_flow()

    async def seek_to_committed(self) -> Mapping[Any, int | None]:
        committed = await super().seek_to_committed()
        self._rewound.clear()
        self._rewinds.clear()
        # The agents' topics; the tables' changelogs are read from where recovery puts them.
        read = {tp: offset for tp, offset in committed.items() if self.app.topics.acks_enabled_for(tp.topic)}
        if unread := [tp for tp, offset in read.items() if not offset]:
            await self._thread.seek_to_beginning(*unread)
        earliest = await self._thread.earliest_offsets(*read) if read else {}
        self._starts = {tp: max(offset or 0, earliest[tp]) for tp, offset in read.items()}
        for tp, offset in read.items():
            if offset and offset < earliest[tp]:  # deleted by retention since it was committed
                self._gap[tp].addi(offset, earliest[tp])
        self._seeked = {tp: start for tp, start in self._starts.items() if tp.topic in COMPACTED}
        return committed

    async def seek(self, partition: Any, offset: int) -> None:
        await super().seek(partition, offset)
        if partition.topic in COMPACTED:
            self._seeked[partition] = offset

    async def _add_gap(self, tp: Any, offset_from: int, offset_to: int) -> None:
        """Not from faust's read offset, which a seek can move back while a fetch is handed out."""

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[Any, Any]]:
        # Sent back between fetches: records of a fetched batch still handed out after a seek would move
        # faust's read offset past it, and it would drop the records read again.
        assigned = self.assignment()
        while self._rewinds:
            tp, start = self._rewinds.popitem()
            if tp in assigned:
                await self.seek(tp, start)
        async for tp, message in super().getmany(timeout):
            start = self._seeked.get(tp)
            if start is not None and message.offset >= start:
                del self._seeked[tp]
                if message.offset > start:  # compacted away
                    self._gap[tp].addi(start, message.offset)
            yield tp, message

    def ack(self, message: Any) -> bool:
        # A record the stream skipped was never taken for handling ("tracked"): it is read again.
        return message.tracked and super().ack(message)

    def _new_offset(self, tp: Any) -> int | None:
        acked, gaps = self._acked[tp], self._gap[tp]
        start = max(self._committed_offset[tp] or 0, self._starts.get(tp, 0))
        if acked and min(acked) > start and not (gaps and gaps.begin() <= start):
            rewound, now = self._rewound.get(tp), time.monotonic()
            if rewound is None or rewound[0] != start or now - rewound[1] > self.REREAD_AFTER_S:
                self._rewound[tp] = start, now
                log.warning("partition read again: a record before those handled was dropped",
                            topic=tp.topic, partition=tp.partition, offset=start)
                self._rewinds[tp] = start
            return None
        return super()._new_offset(tp)


_HANDED = object()  # a record put on its streams' queues without waiting


def _handing_over(callback: Callable[[Any], Awaitable[None]]) -> Callable[[Any], Any]:
    """faust's callback that puts a record on the queues of the streams reading it, run at once as far
    as it goes without waiting: `_HANDED` if it got through (a queue with room, the flow on), else
    what is left of it to await (`_Rest`), which faust races against the flow's suspension as before."""

    def hand_over(message: Any) -> Any:
        coroutine = callback(message)
        try:
            waiting = coroutine.send(None)
        except StopIteration:
            return _HANDED
        return _Rest(coroutine, waiting)

    return hand_over


class _Rest:
    """A coroutine stepped once outside a task, awaitable from where it stopped: `waiting` is what it
    yielded (the future it waits on). What the awaiting task sends or throws goes on to the coroutine."""

    def __init__(self, coroutine: Coroutine[Any, Any, Any], waiting: Any) -> None:
        self._coroutine, self._waiting = coroutine, waiting

    def __await__(self) -> Generator[Any, Any, Any]:
        coroutine, waiting = self._coroutine, self._waiting
        while True:
            try:
                sent = yield waiting
            except GeneratorExit:
                coroutine.close()
                raise
            except BaseException as error:  # noqa: BLE001 - a cancellation included: the coroutine handles it
                step = functools.partial(coroutine.throw, error)
            else:
                step = functools.partial(coroutine.send, sent)
            try:
                waiting = step()
            except StopIteration as stop:
                return stop.value


class _Worker(faust.Worker):
    """faust's worker without its terminal spinner. At WARNING or above the spinner stays on and sets
    the root logger to DEBUG, so that every debug call of faust, mode and aiokafka builds a record
    (a tenth of the worker's CPU). Logging stays as `configure_logging` and `logging_config` set it."""

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        self.spinner = None


def stream_app(service: str, platform: PlatformSettings, datadir: Path, **options: Any) -> faust.App:
    """Call after `configure_logging`."""
    app = faust.App(
        service,
        broker=[f"kafka://{server}" for server in platform.kafka_bootstrap_servers.split(",")],
        broker_credentials=_broker_credentials(platform),
        store="rocksdb://",
        datadir=str(datadir),
        # At least once, with every effect idempotent on the event id: faust's exactly_once has open
        # bugs (duplicates #517, rebalance crashes #323, start-up crash #440, sends outside the
        # transaction #177). Agents work in `batches`, whose offsets are committed only after every
        # send they caused was acknowledged by all in-sync replicas (acks=all, idempotent producer).
        processing_guarantee="at_least_once",
        topic_replication_factor=platform.kafka_replication_factor,
        producer_acks=-1,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=platform.kafka_session_timeout_s,
        broker_heartbeat_interval=min(3.0, platform.kafka_session_timeout_s / 3),
        broker_request_timeout=max(90.0, platform.kafka_session_timeout_s),  # faust wants it no shorter
        key_serializer="raw",
        value_serializer="raw",
        # faust's own web server lists table contents under /table: keep it off; we serve our own API.
        web_enabled=False,
        # The worker replaces the logging set-up when it starts: keep ours (JSON, no personal data).
        loghandlers=list(logging.getLogger().handlers),
        logging_config={"version": 1, "disable_existing_loggers": False, "root": {"level": platform.log_level}},
        Worker=_Worker,
        **options,
    )
    app.transport.Producer, app.transport.Consumer = _IdempotentProducer, _Consumer
    return app


def table(app: faust.App, name: str, partitions: int, platform: PlatformSettings, recovery_buffer: int = 1000) -> faust.Table:
    """A table of raw bytes in RocksDB, one database per partition. faust gives each database a 2 GiB
    block cache and three 64 MiB write buffers: a worker of 42 table partitions held 1.6 GiB after
    restoring a million cases. These are bounded by the platform's settings.

    While restoring, faust holds up to `recovery_buffer` changelog records of the table in memory
    before it writes them: a table of values of hundreds of KB takes a few at a time."""
    mib = 2**20
    options = {
        "write_buffer_size": platform.table_write_buffer_mib * mib, "max_write_buffer_number": 2,
        "block_cache_size": platform.table_block_cache_mib * mib,
    }
    return app.Table(name, partitions=partitions, key_type=bytes, value_type=bytes, options=options,
                     recovery_buffer_size=recovery_buffer)


def _hand_back_freed_blocks() -> None:
    """glibc raises its mmap threshold to the largest block freed (up to 32 MiB): blocks of a few
    hundred KB (a store's totals, a fetch of records) then come from the heap, which keeps what they
    free, and a worker stays at the size of its largest batch or restore (the analytics worker, 150 MiB
    above its steady state after counting 500 stores at once). At a fixed threshold such blocks are
    mapped on their own and handed back to the system when freed."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, 128 * 1024)


def run_worker(app: faust.App, platform: PlatformSettings) -> None:
    """Runs the app as a faust worker until it is stopped."""
    _hand_back_freed_blocks()
    level = platform.log_level.lower()
    loglevel = {"warning": "warn", "critical": "crit"}.get(level, level)
    # --quiet: no banner on stdout, which carries only our JSON logs. --without-web: faust's worker
    # command turns its web server (which lists table contents) back on unless told not to.
    sys.argv = [sys.argv[0], "--quiet", "worker", "--without-web", "--loglevel", loglevel]
    # What is loaded by now (faust, pydantic's validators, the contracts) lives as long as the worker:
    # kept out of the collector's full collections, which otherwise walk it again and again.
    gc.freeze()
    app.main()


class _EmbeddedServer(uvicorn.Server):
    """uvicorn inside faust's event loop; faust handles the process's signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def serve_http(app: faust.App, platform: PlatformSettings, *, service: str, host: str, port: int, description: str,
               expositions: Sequence[Callable[[], Iterable[bytes]]] = ()) -> None:
    """The worker's /healthz, /readyz (ready once its tables are restored) and /metrics (ops and
    service tokens; `expositions` as `create_app` takes them), served by a task of the worker."""

    async def recovered() -> None:
        if not app.tables.recovery.completed.is_set():
            raise ConnectionError("the tables are still being restored")

    web = create_app(service=service, platform=platform, checks={"tables": recovered}, description=description,
                     expositions=expositions)

    @app.task
    async def serve() -> None:
        # Requests are logged by our middleware, with the route template; uvicorn's access log is off.
        config = uvicorn.Config(web, host=host, port=port, log_config=None, lifespan="off", access_log=False)
        await _EmbeddedServer(config).serve()


def source(app: faust.App, topic: Topic) -> faust.TopicT:
    """A registry topic as raw bytes: values are validated with the contracts, failures dead-lettered
    (a deserialiser error inside faust could kill the consumer silently, faust #175)."""
    return app.topic(topic.name, partitions=topic.partitions, key_type=bytes, value_type=bytes)


class Inputs:
    """The registry topics a worker reads, decoded strictly: a record that is not a valid event of
    its topic goes to the topic's DLQ with the reason, and the worker goes on."""

    def __init__(self, app: faust.App, *topics: Topic) -> None:
        self._app = app
        self._topics = {topic.name: topic for topic in topics}
        self._dlq = {topic.name: source(app, topic.dlq) for topic in topics}

    def channel(self, *topics: Topic) -> faust.TopicT:
        """What one agent reads: one topic, or several merged so that one agent orders their events."""
        return self._app.topic(*(topic.name for topic in topics), key_type=bytes, value_type=bytes)

    async def valid(self, batch: "Batch") -> AsyncIterator[tuple[faust.EventT, Envelope]]:
        """The batch's valid events with their envelopes, each made current in turn (so a table
        written while handling it writes to that event's changelog partition)."""
        for event in batch:
            topic = self._topics[event.message.topic]
            try:
                envelope = decode(event.value, topic.event_classes)
            except InvalidEvent as error:
                letter = dead_letter(event.message, str(error), self._app.conf.id)
                log.warning("event dead-lettered", topic=topic.name, offset=event.message.offset, reason=letter.data.reason)
                await batch.send(self._dlq[topic.name], topic.dlq, letter)
                continue
            yield event, envelope


Value = bytes | Callable[[], bytes]  # a staged value, or how to encode it when it is written


class Batch:
    """Events taken together and the sends they caused. Sends are not awaited one by one: `done()`
    waits for every delivery, and only then may the events' offsets be committed (`batches`)."""

    def __init__(self, events: Sequence[faust.EventT]) -> None:
        self._events = events
        self._sent: list[Awaitable[object]] = []
        self._staged: list[Staged] = []
        self.current: faust.EventT | None = None

    def __iter__(self) -> Iterator[faust.EventT]:
        for event in self._events:
            self.make_current(event)
            self.current = event
            yield event

    @staticmethod
    def make_current(event: faust.EventT) -> None:
        """A table writes its changelog to the partition of the current event, which faust keeps in
        a context variable that take_events leaves unset. Only this task's context changes."""
        _current_event.set(weakref.ref(event))

    def write(self, table: faust.Table, changes: Mapping[bytes, tuple[Value | None, faust.EventT]]) -> None:
        """Writes each changed key of a table once (None deletes it), into the changelog partition
        of the event that last changed it: a burst of events on one key costs one write. A deferred
        value is encoded now, once."""
        for key, (value, event) in changes.items():
            self.make_current(event)
            if callable(value):
                value = value()
            if value is None:
                table.pop(key, None)
            else:
                table[key] = value

    def stage(self, table: faust.Table) -> "Staged":
        """The table as this batch sees it, its writes held back until the batch is `done()`."""
        staged = Staged(table, self)
        self._staged.append(staged)
        return staged

    async def send(self, channel: faust.TopicT, topic: Topic, envelope: Envelope) -> None:
        # Straight to the app's producer: faust's Topic.send wraps each record in a future message
        # with callbacks and sensors, a third of the cost of a send; done() awaits the delivery all the same.
        producer = channel.app.producer
        self._sent.append(await producer.send(channel.get_topic_name(), topic.key(envelope.data), encode(envelope),
                                              partition=None, timestamp=None, headers=KAFKA_HEADERS))

    async def done(self) -> None:
        """Waits for every send to be delivered, then writes the staged tables."""
        await asyncio.gather(*self._sent)  # a failed delivery raises: the agent stops, nothing is committed
        self._sent.clear()
        for staged in self._staged:
            self.write(staged.table, staged.changes)
        self._staged.clear()


class Staged(MutableMapping[bytes, bytes]):
    """A table seen through one batch: the batch's own writes first, then the table. The writes reach
    the table only once every send of the batch is delivered. A table that records work as done (a
    complaint routed, a deadline's breach raised) must not get ahead of the events that work
    published: after a crash in between, the replayed events would find the work done and skip it,
    and its events would never be published. Held back, the work is done again and its events are
    sent again under the same ids, which consumers drop."""

    def __init__(self, table: MutableMapping[bytes, bytes], batch: Batch) -> None:
        self.table, self._batch = table, batch
        self.changes: dict[bytes, tuple[Value | None, faust.EventT]] = {}

    def __getitem__(self, key: bytes) -> bytes:
        if key not in self.changes:
            return self.table[key]
        if (value := self.changes[key][0]) is None:
            raise KeyError(key)
        return value() if callable(value) else value

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.changes[key] = value, self._batch.current

    def defer(self, key: bytes, value: Callable[[], bytes]) -> None:
        """Sets the key to what `value()` returns when the batch writes it (or it is read back), for a
        value that changes many times in a batch and costs to encode: it is encoded once."""
        self.changes[key] = value, self._batch.current

    def __delitem__(self, key: bytes) -> None:
        self.changes[key] = None, self._batch.current

    def __iter__(self) -> Iterator[bytes]:
        return (key for key, _ in self.items())

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def items(self) -> Iterator[tuple[bytes, bytes]]:  # type: ignore[override]
        # From the table's own items: a faust table looks a single key up only in the current
        # event's partition, so reading every key back one by one would miss the other partitions'.
        yield from ((key, value) for key, value in self.table.items() if key not in self.changes)
        yield from ((key, value() if callable(value) else value) for key, (value, _) in self.changes.items() if value is not None)

    def values(self) -> Iterator[bytes]:  # type: ignore[override]
        return (value for _, value in self.items())


async def batches(stream: faust.StreamT, size: int = 500, wait_s: float = 0.0) -> AsyncIterator[Batch]:
    """The stream's events in batches of up to `size`: a batch starts with the first event to arrive
    and takes those arriving within `wait_s` after it (with 0, those already fetched). An idle stream
    waits without waking: faust's take_events woke every `within` whether events came or not, and an
    idle escalation worker spent half its CPU on its four agents' timers. A batch's events are
    acknowledged only once it is done — its sends delivered, its tables written — so no offset is
    committed before the batch's effect; events arriving meanwhile make the next batch."""
    pending: list[faust.EventT] = []
    arrived, full, room = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def gather(value: object) -> object:
        # faust's processors run as the stream is read (passively, below), each with its event current.
        while len(pending) >= size and not stream.should_stop:
            room.clear()
            await stream.wait(room)
        pending.append(stream.current_event)
        arrived.set()
        if len(pending) >= size:
            full.set()
        return value

    acks, stream.enable_acks = stream.enable_acks, False  # acknowledged here, after each batch
    stream.add_processor(gather)
    stream._enable_passive(aiter(stream.channel))  # read in the background, through `gather`, as take_events is
    try:
        while not await stream.wait_for_stopped(arrived):
            if wait_s and not full.is_set():
                await stream.wait_for_stopped(full, timeout=wait_s)  # says "stopped" when it timed out, too
                if stream.should_stop:
                    break
            taken = pending[:]
            pending.clear()
            arrived.clear()
            full.clear()
            room.set()
            batch = Batch(taken)
            yield batch
            await batch.done()
            for event in taken:
                await stream.ack(event)
    finally:
        stream.enable_acks = acks
        stream._processors.remove(gather)
