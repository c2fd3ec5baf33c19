"""python -m services.webapp: the staff web app."""

import uvicorn

from services.shared.logs import configure_logging
from services.shared.settings import PlatformSettings
from services.webapp.app import build_app
from services.webapp.settings import WebappSettings

settings, platform = WebappSettings(), PlatformSettings()
configure_logging("webapp", platform.log_level)
uvicorn.run(build_app(settings, platform), host=settings.host, port=settings.port, log_config=None, access_log=False)
