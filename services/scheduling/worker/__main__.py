"""python -m services.scheduling.worker: consumes the other services' events into the scheduling store."""

import uvicorn

from services.scheduling.settings import SchedulingSettings
from services.scheduling.worker import build_worker
from services.shared.logs import configure_logging
from services.shared.settings import PlatformSettings

settings, platform = SchedulingSettings(), PlatformSettings()
configure_logging("scheduling-worker", platform.log_level)
uvicorn.run(build_worker(settings, platform), host=settings.host, port=settings.worker_port, log_config=None,
            access_log=False)
