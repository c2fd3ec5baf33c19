"""python -m services.scheduling: serves the scheduling API (and runs its outbox relay)."""

import uvicorn

from services.scheduling.api.app import build_app
from services.scheduling.settings import SchedulingSettings
from services.shared.logs import configure_logging
from services.shared.settings import PlatformSettings

settings, platform = SchedulingSettings(), PlatformSettings()
configure_logging("scheduling", platform.log_level)
uvicorn.run(build_app(settings, platform), host=settings.host, port=settings.port, log_config=None, access_log=False)
