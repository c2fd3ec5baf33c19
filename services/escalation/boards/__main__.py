"""python -m services.escalation.boards: serves the regional boards API and the coordinators' dashboard."""

import uvicorn

from services.escalation.boards.api import build_app
from services.escalation.settings import EscalationSettings
from services.shared.logs import configure_logging
from services.shared.settings import PlatformSettings

settings, platform = EscalationSettings(), PlatformSettings()
configure_logging("escalation-boards", platform.log_level)
uvicorn.run(build_app(settings, platform), host=settings.host, port=settings.port, log_config=None, access_log=False)
