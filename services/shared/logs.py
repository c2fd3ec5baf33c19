"""JSON logs on standard output. Personal data never reaches them: known personal fields are
redacted wherever they appear, so a careless `log.info(..., email=...)` still logs nothing personal."""

import logging
import sys
from collections.abc import Mapping
from typing import Any

import structlog

PERSONAL_FIELDS = frozenset(
    {
        "name", "customer_name", "first_name", "last_name", "email", "phone", "address", "contact",
        "description", "comment", "note", "text", "summary", "authorization", "token", "password",
    }
)
REDACTED = "[redacted]"


def redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: REDACTED if key in PERSONAL_FIELDS else redact(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact(item) for item in value]
    return value


def _redact_personal_data(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return redact(event_dict)


def configure_logging(service: str, level: str = "INFO") -> None:
    """Routes structlog and the standard library's loggers (uvicorn, aiokafka) into one JSON stream."""
    def add_service(_logger: Any, _method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
        event_dict.setdefault("service", service)
        return event_dict

    shared = [
        add_service,
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.CallsiteParameterAdder({structlog.processors.CallsiteParameter.MODULE}),
        _redact_personal_data,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # The access log carries client addresses and raw paths (which may hold survey tokens);
    # requests are logged by our middleware with the route template instead. httpx logs each
    # call's full URL at INFO, as raw: only its warnings.
    logging.getLogger("uvicorn.access").disabled = True
    logging.getLogger("httpx").setLevel(logging.WARNING)
