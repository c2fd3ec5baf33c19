"""Background tasks a process cannot run without (a consumer, a sender)."""

import asyncio
import signal
import traceback
from collections.abc import Coroutine

import structlog

log = structlog.get_logger()


def essential(work: Coroutine, what: str) -> asyncio.Task:
    """Runs `work` as a task whose failure (an error it cannot handle, such as its store unreachable)
    stops the process, for the process manager to start it again: what it had not finished is then
    done again (events not committed are consumed again, claimed deliveries tried again when their
    claims expire)."""
    task = asyncio.create_task(work)

    def stop_the_process_if_it_failed(done: asyncio.Task) -> None:
        if not done.cancelled() and done.exception() is not None:
            error = done.exception()
            # Where it was raised, not its message: a message may carry a statement's parameters.
            where = [f"{frame.filename}:{frame.lineno} {frame.name}" for frame in traceback.extract_tb(error.__traceback__)]
            log.error(f"{what} stopped; stopping the process", error=type(error).__name__, where=where[-8:])
            signal.raise_signal(signal.SIGTERM)

    task.add_done_callback(stop_the_process_if_it_failed)
    return task
