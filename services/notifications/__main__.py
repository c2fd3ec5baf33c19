"""python -m services.notifications: delivers pages and tier raises and serves their acknowledge links."""

import uvicorn

from services.notifications.api.app import build_app
from services.notifications.settings import NotificationsSettings
from services.shared.logs import configure_logging
from services.shared.settings import PlatformSettings

settings, platform = NotificationsSettings(), PlatformSettings()
configure_logging("notifications", platform.log_level)
uvicorn.run(build_app(settings, platform), host=settings.host, port=settings.port, log_config=None, access_log=False)
