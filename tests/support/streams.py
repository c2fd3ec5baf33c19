"""What unit tests of the stream workers' batches share: a topic whose deliveries a test completes by hand."""

import asyncio
from types import SimpleNamespace

from services.shared.topics import COMPLAINTS


class Channel:
    """A topic whose deliveries, through its app's producer, the test completes by hand."""

    def __init__(self) -> None:
        self.pending: list[asyncio.Future] = []
        self.app = SimpleNamespace(producer=self)

    def get_topic_name(self) -> str:
        return COMPLAINTS.name

    async def send(self, *_: object, **__: object) -> asyncio.Future:
        self.pending.append(asyncio.get_running_loop().create_future())
        return self.pending[-1]
