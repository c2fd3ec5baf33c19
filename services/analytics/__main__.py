"""python -m services.analytics: runs the analytics worker (faust) and its /metrics for Prometheus."""

import contextlib
from collections.abc import Iterator

import uvicorn
from prometheus_client import REGISTRY

from services.analytics.pipeline import watch_pipeline
from services.analytics.settings import AnalyticsSettings
from services.analytics.streams import REGIONS_TABLE, REPORTS_TABLE, TOTALS_TABLE, TotalsCollector, register
from services.shared.kafka import ensure_topics
from services.shared.logs import configure_logging
from services.shared.settings import PlatformSettings
from services.shared.streams import changelog, run_worker, stream_app
from services.shared.topics import ALL_TOPICS, COORDINATION, STORE_PARTITIONS
from services.shared.web import create_app


class EmbeddedServer(uvicorn.Server):
    """uvicorn inside faust's event loop; faust handles the process's signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


settings, platform = AnalyticsSettings(), PlatformSettings()
configure_logging("analytics", platform.log_level)
ensure_topics(platform, [
    *ALL_TOPICS, *(changelog("analytics", table, STORE_PARTITIONS) for table in (TOTALS_TABLE, REPORTS_TABLE)),
    changelog("analytics", REGIONS_TABLE, COORDINATION.partitions),
])
app = stream_app("analytics", platform, settings.data_dir, consumer_group_instance_id=settings.instance_id)
REGISTRY.register(TotalsCollector(register(app, settings.signal_rules, settings.window_rules)))
REGISTRY.register(watch_pipeline(app, platform))


async def recovered() -> None:
    if not app.tables.recovery.completed.is_set():
        raise ConnectionError("the totals are still being restored")


web = create_app(service="analytics", platform=platform, checks={"tables": recovered},
                 description="Satisfaction and loss-prevention totals per store, for Prometheus.")


@app.task
async def serve_metrics() -> None:
    # Requests are logged by our middleware, with the route template; uvicorn's access log is off.
    config = uvicorn.Config(web, host=settings.host, port=settings.port, log_config=None, lifespan="off", access_log=False)
    await EmbeddedServer(config).serve()


run_worker(app, platform)
