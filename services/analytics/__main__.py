"""python -m services.analytics: runs the analytics worker (faust) and its /metrics for Prometheus."""

from prometheus_client import REGISTRY

from services.analytics.metrics import TotalsExposition
from services.analytics.pipeline import watch_pipeline
from services.analytics.streams import app, platform, regions, settings, totals
from services.analytics.topics import CHANGELOGS
from services.shared.clock import utc_now
from services.shared.kafka import ensure_topics
from services.shared.streams import run_worker, serve_http
from services.shared.topics import ALL_TOPICS

ensure_topics(platform, [*ALL_TOPICS, *CHANGELOGS.values()])
REGISTRY.register(watch_pipeline(app, platform))
serve_http(app, platform, service="analytics", host=settings.host, port=settings.port,
           description="Satisfaction and loss-prevention totals per store, for Prometheus.",
           expositions=[TotalsExposition([totals, regions], utc_now)])
run_worker(app, platform)
