"""python -m services.escalation: runs the escalation worker (faust) and its health and metrics endpoints."""

import sys

from services.escalation.domain.rules import InvalidRules, load_rules
from services.escalation.settings import DEFAULT_RULES, EscalationSettings
from services.escalation.streams import register
from services.escalation.topics import INTERNAL_TOPICS
from services.shared.kafka import ensure_topics
from services.shared.logs import configure_logging
from services.shared.settings import PlatformSettings
from services.shared.streams import run_worker, serve_http, stream_app
from services.shared.topics import ALL_TOPICS

settings, platform = EscalationSettings(), PlatformSettings()
configure_logging("escalation", platform.log_level)
try:
    rules = load_rules(settings.rules_file or DEFAULT_RULES)
except InvalidRules as error:
    sys.exit(f"escalation: refusing to start: {error}")
ensure_topics(platform, ALL_TOPICS + INTERNAL_TOPICS)
app = stream_app("escalation", platform, settings.data_dir, consumer_group_instance_id=settings.instance_id)
register(app, rules, settings.tick_seconds)
serve_http(app, platform, service="escalation", host=settings.worker_host, port=settings.worker_port,
           description="The escalation worker: routing, paging, SLA timers and common problems.")
run_worker(app, platform)
