"""A consumer's dead letter while the brokers cannot take it (a partition leader being elected): the
consumer waits on the one send until it is delivered, sends it again only when the send itself failed,
and gives up only when it is being stopped — it neither stops over the record nor leaves two letters."""

import asyncio
from types import SimpleNamespace

import pytest
from aiokafka.errors import KafkaTimeoutError
from structlog.testing import capture_logs

from services.shared.kafka import _dead_letter_sent, dead_letter
from services.shared.settings import PlatformSettings
from services.shared.topics import COMPLAINTS

SETTINGS = PlatformSettings(kafka_send_timeout_s=0.05)
RECORD = SimpleNamespace(topic=COMPLAINTS.name, partition=5, offset=9, key=b"hel-kamppi", value=b"{not json",
                         timestamp=1_764_547_200_000)


class Brokers:
    """A producer whose sends are answered by the test: each send's future, in order."""

    def __init__(self, refusals: int = 0) -> None:
        self.sends: list[asyncio.Future] = []
        self.refusals = refusals  # sends refused at once (no leader known for the partition)

    async def send(self, topic: str, value: bytes, key: bytes | None = None, headers=None) -> asyncio.Future:
        if self.refusals:
            self.refusals -= 1
            raise KafkaTimeoutError()
        self.sends.append(asyncio.get_running_loop().create_future())
        return self.sends[-1]


def letter():
    return dead_letter(RECORD, "not JSON", "notifications")


async def until(probe) -> None:
    async with asyncio.timeout(5):
        while not probe():
            await asyncio.sleep(0.01)  # a poll of the fake's state, with the deadline above


async def test_a_dead_letter_the_brokers_take_late_is_sent_once_and_waited_for():
    brokers, stop = Brokers(), asyncio.Event()
    with capture_logs() as logs:
        sending = asyncio.create_task(_dead_letter_sent(brokers, COMPLAINTS.dlq, letter(), SETTINGS, stop))
        await until(lambda: sum(e["event"].startswith("dead letter not yet taken") for e in logs) >= 3)
    assert not sending.done() and len(brokers.sends) == 1  # three send timeouts on, the one send still waited for
    brokers.sends[0].set_result(None)  # the new leader takes it
    await asyncio.wait_for(sending, 5)
    assert len(brokers.sends) == 1


async def test_a_send_refused_for_want_of_a_leader_is_made_again():
    brokers, stop = Brokers(refusals=1), asyncio.Event()
    sending = asyncio.create_task(_dead_letter_sent(brokers, COMPLAINTS.dlq, letter(), SETTINGS, stop))
    await until(lambda: brokers.sends)
    brokers.sends[0].set_result(None)
    await asyncio.wait_for(sending, 5)
    assert brokers.refusals == 0 and len(brokers.sends) == 1


async def test_a_consumer_being_stopped_gives_the_letter_up_without_going_on():
    brokers, stop = Brokers(), asyncio.Event()
    sending = asyncio.create_task(_dead_letter_sent(brokers, COMPLAINTS.dlq, letter(), SETTINGS, stop))
    await until(lambda: brokers.sends)
    stop.set()
    with pytest.raises(TimeoutError):  # not committed: the record is read again after the restart
        await asyncio.wait_for(sending, 5)
