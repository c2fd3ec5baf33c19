"""python -m services.analytics: runs the analytics worker (faust) and its /metrics for Prometheus."""

from prometheus_client import REGISTRY

from services.analytics.pipeline import watch_pipeline
from services.analytics.settings import AnalyticsSettings
from services.analytics.streams import REGIONS_TABLE, REPORTS_TABLE, TOTALS_TABLE, TotalsCollector, register
from services.shared.kafka import ensure_topics
from services.shared.logs import configure_logging
from services.shared.settings import PlatformSettings
from services.shared.streams import run_worker, serve_http, stream_app
from services.shared.topics import changelog
from services.shared.topics import ALL_TOPICS, COORDINATION, STORE_PARTITIONS

settings, platform = AnalyticsSettings(), PlatformSettings()
configure_logging("analytics", platform.log_level)
ensure_topics(platform, [
    *ALL_TOPICS, *(changelog("analytics", table, STORE_PARTITIONS) for table in (TOTALS_TABLE, REPORTS_TABLE)),
    changelog("analytics", REGIONS_TABLE, COORDINATION.partitions),
])
app = stream_app("analytics", platform, settings.data_dir, consumer_group_instance_id=settings.instance_id)
REGISTRY.register(TotalsCollector(register(app, settings.signal_rules, settings.window_rules)))
REGISTRY.register(watch_pipeline(app, platform))
serve_http(app, platform, service="analytics", host=settings.host, port=settings.port,
           description="Satisfaction and loss-prevention totals per store, for Prometheus.")
run_worker(app, platform)
