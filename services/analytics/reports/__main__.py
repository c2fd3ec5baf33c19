"""python -m services.analytics.reports: serves the satisfaction and loss-prevention reports API."""

import uvicorn

from services.analytics.reports.api import build_app
from services.analytics.settings import AnalyticsSettings
from services.shared.logs import configure_logging
from services.shared.settings import PlatformSettings

settings, platform = AnalyticsSettings(), PlatformSettings()
configure_logging("analytics-reports", platform.log_level)
uvicorn.run(build_app(settings, platform), host=settings.reports_host, port=settings.reports_port, log_config=None,
            access_log=False)
