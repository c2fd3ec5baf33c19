"""python -m services.complaints.worker: keeps on each complaint whom the escalation service routed or raised it
to, and makes accepted policy proposals new versions of their region's return policy."""

import uvicorn

from services.complaints.settings import ComplaintsSettings
from services.complaints.worker import build_worker
from services.shared.logs import configure_logging
from services.shared.settings import PlatformSettings

settings, platform = ComplaintsSettings(), PlatformSettings()
configure_logging("complaints-worker", platform.log_level)
uvicorn.run(build_worker(settings, platform), host=settings.host, port=settings.worker_port, log_config=None,
            access_log=False)
