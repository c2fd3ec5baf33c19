"""python -m services.complaints: serves the complaints API (and runs its outbox relay)."""

import uvicorn

from services.complaints.api.app import build_app
from services.complaints.settings import ComplaintsSettings
from services.shared.logs import configure_logging
from services.shared.settings import PlatformSettings

settings, platform = ComplaintsSettings(), PlatformSettings()
configure_logging("complaints", platform.log_level)
uvicorn.run(build_app(settings, platform), host=settings.host, port=settings.port, log_config=None, access_log=False)
