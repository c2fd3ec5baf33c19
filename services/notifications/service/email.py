"""E-mail over SMTP: a real relay in production, aiosmtpd locally and in tests."""

from email.message import EmailMessage
from email.utils import format_datetime
from uuid import UUID
from datetime import datetime

import aiosmtplib

from services.notifications.domain.messages import Message
from services.notifications.settings import NotificationsSettings

FAILURES = (aiosmtplib.SMTPException, OSError, TimeoutError)
"""What a failed delivery raises: the relay unreachable, slow or refusing."""


class Mailer:
    def __init__(self, settings: NotificationsSettings) -> None:
        self.settings = settings

    async def send(self, delivery_id: UUID, to: str, message: Message, now: datetime) -> None:
        """Hands the message to the relay; returns once the relay accepted it. The Message-ID is the
        delivery's own, so a message sent again after a crash (see `service.sender`) is the same message
        to the recipient's mail system."""
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = self.settings.sender, to, message.subject
        email["Date"] = format_datetime(now)
        email["Message-ID"] = f"<{delivery_id}@notifications.retail-care>"
        email.set_content(message.body)
        password = self.settings.smtp_password.get_secret_value() if self.settings.smtp_password else None
        await aiosmtplib.send(
            email, hostname=self.settings.smtp_host, port=self.settings.smtp_port, start_tls=self.settings.smtp_starttls,
            username=self.settings.smtp_username, password=password, timeout=self.settings.smtp_timeout_s,
        )
