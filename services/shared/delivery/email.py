"""E-mail over SMTP: a real relay in production, aiosmtpd locally and in tests."""

import email.policy
import re
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from uuid import UUID

import aiosmtplib
from aiosmtplib import SMTPStatus

from services.shared.delivery.channels import ChannelSettings, HandingOver, InDoubt, Message

# SMTP's line ends; headers folded only past RFC 5322's hard limit: the standard library folds a long
# subject before its first word, which some clients then show with a leading space.
WIRE = email.policy.SMTP.clone(max_line_length=998)
WIRE_UTF8 = email.policy.SMTPUTF8.clone(max_line_length=998)
LEADING_PERIOD = re.compile(rb"(?m)^\.")


class Mailer:
    def __init__(self, settings: ChannelSettings) -> None:
        self.settings = settings

    async def send(self, delivery_id: UUID, address: str, message: Message, now: datetime, handing_over: HandingOver) -> None:
        """Hands the message to the relay; returns once the relay accepted it. The envelope is agreed
        (MAIL, RCPT) before the message is handed over, so a relay that refuses the recipient fails the
        attempt before anything is in flight. The Message-ID is the delivery's own, at the sender's domain."""
        email = EmailMessage()
        email["From"], email["To"], email["Subject"] = self.settings.sender, address, message.subject
        email["Date"] = format_datetime(now)
        email["Message-ID"] = f"<{delivery_id}@{self.settings.sender.rpartition('@')[2]}>"
        email.set_content(message.body)
        s = self.settings
        # An address beyond ASCII (aino.mäkinen@…) goes only to a relay that takes SMTPUTF8.
        international = not (address.isascii() and s.sender.isascii())
        content = email.as_bytes(policy=WIRE_UTF8 if international else WIRE)
        smtp = aiosmtplib.SMTP(hostname=s.smtp_host, port=s.smtp_port, start_tls=s.smtp_starttls, timeout=s.smtp_timeout_s)
        async with smtp:
            if s.smtp_username:
                await smtp.login(s.smtp_username, s.smtp_password.get_secret_value() if s.smtp_password else "")
            if international and smtp.last_ehlo_response is None:
                await smtp.ehlo()  # what the relay takes is known only from its EHLO answer
            if international and not smtp.supports_extension("smtputf8"):
                raise aiosmtplib.SMTPNotSupported("the relay takes no internationalised address (SMTPUTF8)")
            encoding = "utf-8" if international else "ascii"
            await smtp.mail(s.sender, options=["SMTPUTF8"] if international else None, encoding=encoding)
            await smtp.rcpt(address, encoding=encoding)
            await self._data(smtp, content, handing_over)

    async def _data(self, smtp: aiosmtplib.SMTP, content: bytes, handing_over: HandingOver) -> None:
        """DATA in its two steps (aiosmtplib's `data` takes both at once): until the relay invites the
        message (354) nothing is in flight, and a relay that does not is a failure to try again; once the
        message is written, a relay whose answer never comes may well have it (in doubt, not sent again)."""
        invited = await smtp.execute_command(b"DATA")
        if invited.code != SMTPStatus.start_input:
            raise aiosmtplib.SMTPDataError(invited.code, invited.message)
        await handing_over()
        try:
            # Lines starting with a period doubled, then the end of data (RFC 5321 4.5.2); the text's
            # line ends are already CRLF (the SMTP policies').
            ended = content if content.endswith(b"\r\n") else content + b"\r\n"
            smtp.protocol.write(LEADING_PERIOD.sub(b"..", ended) + b".\r\n")
            answer = await smtp.protocol.read_response(timeout=self.settings.smtp_timeout_s)
        except (aiosmtplib.SMTPTimeoutError, aiosmtplib.SMTPServerDisconnected) as error:
            smtp.close()  # a late answer would be read as QUIT's: closed at once, as aiosmtplib's own commands do
            raise InDoubt(type(error).__name__) from error
        if answer.code != SMTPStatus.completed:
            raise aiosmtplib.SMTPDataError(answer.code, answer.message)
