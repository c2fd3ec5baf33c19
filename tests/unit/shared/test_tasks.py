"""An essential task that fails stops the process, and its log says where it failed but not the
error's message, which may carry a statement's parameters (personal data)."""

import asyncio
import signal

from structlog.testing import capture_logs

from services.shared.tasks import essential


async def test_a_failed_essential_task_stops_the_process_and_logs_where_it_failed_without_its_message(monkeypatch):
    raised = []
    monkeypatch.setattr(signal, "raise_signal", raised.append)

    async def consuming() -> None:
        raise TimeoutError("INSERT … [parameters: ('aila.niemi@example.com',)]")

    with capture_logs() as logs:
        task = essential(consuming(), "consumer")
        await asyncio.gather(task, return_exceptions=True)
    assert raised == [signal.SIGTERM]
    (entry,) = [e for e in logs if e["event"] == "consumer stopped; stopping the process"]
    assert entry["error"] == "TimeoutError" and entry["where"][-1].endswith(" consuming")
    assert "aila.niemi" not in repr(entry)


async def test_a_cancelled_essential_task_stops_nothing(monkeypatch):
    raised = []
    monkeypatch.setattr(signal, "raise_signal", raised.append)
    task = essential(asyncio.Event().wait(), "sender")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert raised == []
