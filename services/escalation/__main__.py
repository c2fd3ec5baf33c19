"""python -m services.escalation: runs the escalation worker (faust) and its health and metrics endpoints."""

from services.escalation.streams import app, platform, settings
from services.escalation.topics import INTERNAL_TOPICS
from services.shared.kafka import ensure_topics
from services.shared.streams import run_worker, serve_http
from services.shared.topics import ALL_TOPICS

ensure_topics(platform, ALL_TOPICS + INTERNAL_TOPICS)
serve_http(app, platform, service="escalation", host=settings.worker_host, port=settings.worker_port,
           description="The escalation worker: routing, paging, SLA timers and common problems.")
run_worker(app, platform)
