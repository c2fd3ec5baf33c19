import json
import logging

import httpx
import pytest
import structlog

from services.shared.logs import configure_logging


@pytest.fixture(autouse=True)
def root_logger_restored():
    """configure_logging points the root logger at this test's captured stdout, closed after it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def test_logs_are_json_lines_without_personal_data(capsys):
    configure_logging("complaints", "INFO")
    structlog.get_logger().info(
        "complaint filed", complaint_id="c-1", email="jane@example.com", customer={"name": "Jane", "phone": "+358 40"}
    )
    logging.getLogger("aiokafka").warning("broker %s down", "b-1")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    filed, foreign = lines[-2], lines[-1]
    assert filed["event"] == "complaint filed"
    assert filed["service"] == "complaints"
    assert filed["complaint_id"] == "c-1"
    assert filed["email"] == "[redacted]"
    assert filed["customer"] == {"name": "[redacted]", "phone": "[redacted]"}
    assert "jane@example.com" not in json.dumps(lines)
    assert foreign["event"] == "broker b-1 down"
    assert foreign["level"] == "warning"


async def test_a_call_to_another_service_logs_no_address_with_a_secret_in_it(capsys):
    """httpx logs every request's full URL at INFO: a survey's one-time token travels in the path."""
    configure_logging("webapp", "INFO")
    secret = "sHXHHqJ9NYpzYfdSBZ53CFi8k8mvvaTMdypYTdJT6cI"
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    async with httpx.AsyncClient(transport=transport, base_url="http://complaints") as client:
        await client.get(f"/v1/csat/{secret}")
    assert secret not in capsys.readouterr().out
