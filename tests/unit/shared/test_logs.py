import json
import logging

import structlog

from services.shared.logs import configure_logging


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
