"""One address in front of an API's replicas, as a Kubernetes Service or a TCP load balancer puts them:
each connection goes to the next replica in turn, or to the one after it when that one refuses (a
killed replica's port is closed)."""

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


@asynccontextmanager
async def balancing(ports: list[int]) -> AsyncIterator[str]:
    """The balancer's URL for as long as the caller needs it."""
    turns = itertools.cycle(ports)

    async def connect() -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for _ in ports:
            try:
                return await asyncio.open_connection("127.0.0.1", next(turns))
            except OSError:
                continue
        return None

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def serve(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        replica = await connect()
        if replica is None:
            client_writer.close()
            return
        replica_reader, replica_writer = replica
        await asyncio.gather(pipe(client_reader, replica_writer), pipe(replica_reader, client_writer))

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
