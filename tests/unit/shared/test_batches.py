"""A stream's events in batches: a batch takes what has arrived, up to its size; its events are
acknowledged (and so may be committed) only once its sends are delivered, never when it fails; an
idle stream waits for its next event without waking on a timer."""

import asyncio

import pytest

from services.shared.streams import batches
from services.shared.topics import COMPLAINTS
from tests.support.builders import filed
from tests.support.streams import Channel


class Event:
    """Stands for a faust event (a batch makes each current, by a weak reference)."""

    def __init__(self, name: str) -> None:
        self.name = name


def names(events) -> list[str]:
    return [event.name for event in events]


class Stream:
    """Stands for a faust stream as `batches` uses it: events put in are read in the background
    through its processors, each current in turn; what is acknowledged is listed; every wait is
    recorded with its timeout."""

    def __init__(self) -> None:
        self.enable_acks, self.should_stop, self.current_event = True, False, None
        self._processors: list = []
        self.channel = self
        self.acked: list[str] = []
        self.timeouts: list[float | None] = []
        self._queue: asyncio.Queue = asyncio.Queue()
        self._stopped = asyncio.Event()

    def __aiter__(self) -> "Stream":
        return self

    async def __anext__(self) -> Event:
        raise StopAsyncIteration  # `batches` reads the stream passively, never its channel

    def put(self, *events: str) -> None:
        for event in events:
            self._queue.put_nowait(Event(event))

    def add_processor(self, processor) -> None:
        self._processors.append(processor)

    def _enable_passive(self, _channel: object) -> None:
        self._reading = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        while True:
            self.current_event = await self._queue.get()
            for processor in self._processors:
                await processor(self.current_event)

    async def wait(self, event: asyncio.Event, timeout: float | None = None) -> None:
        self.timeouts.append(timeout)
        waits = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(self._stopped.wait())]
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for waiting in waits:
            waiting.cancel()

    async def wait_for_stopped(self, event: asyncio.Event, timeout: float | None = None) -> bool:
        """As faust's (mode's): True once stopped, and also when the wait timed out."""
        await self.wait(event, timeout)
        return self.should_stop or not event.is_set()

    def stop(self) -> None:
        self.should_stop = True
        self._stopped.set()

    async def ack(self, event: Event) -> None:
        self.acked.append(event.name)


async def _settled() -> None:
    """Lets every task that can run, run."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_batch_takes_what_has_arrived_up_to_its_size_and_is_acknowledged_once_its_sends_are_delivered():
    stream, sends = Stream(), Channel()
    stream.put("a", "b", "c")
    taken, acked_while_handled = [], []
    async for batch in batches(stream, size=2):
        taken.append(names(batch))
        acked_while_handled.append(list(stream.acked))
        await batch.send(sends, COMPLAINTS, filed())
        await _settled()
        if len(taken) == 1:
            stream.put("d")
            await _settled()
        sends.pending[-1].set_result(None)
        if len(taken) == 2:
            stream.stop()
    assert taken == [["a", "b"], ["c", "d"]]
    assert acked_while_handled == [[], ["a", "b"]], "a batch's events are acknowledged after it, not before"
    assert stream.acked == ["a", "b", "c", "d"]
    assert stream.enable_acks and not stream._processors, "the stream is left as it was"


async def test_a_batch_whose_send_fails_acknowledges_nothing():
    stream, sends = Stream(), Channel()
    stream.put("a", "b")
    with pytest.raises(ConnectionError):
        async for batch in batches(stream):
            list(batch)
            await batch.send(sends, COMPLAINTS, filed())
            sends.pending[-1].set_exception(ConnectionError("the broker went away"))
    assert stream.acked == [], "read again after a restart, from the last committed offset"


async def test_an_idle_stream_waits_for_its_next_event_without_a_timer():
    stream = Stream()
    taken = []

    async def reading() -> None:
        async for batch in batches(stream, wait_s=0.05):
            taken.append(names(batch))

    task = asyncio.ensure_future(reading())
    await _settled()
    assert taken == [] and stream.timeouts == [None], "idle: one wait, for an event"
    stream.put("a")
    await _settled()
    assert stream.timeouts == [None, 0.05], "the first event opens the batch's window"
    deadline = asyncio.get_running_loop().time() + 5
    while not taken and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.01)
    assert taken == [["a"]], "taken when the window closes"
    stream.stop()
    await task
