"""E-mail on a real SMTP server (aiosmtpd). To an internationalised address (aino.mäkinen@…): sent with
SMTPUTF8 where the relay takes it, refused as a failure of the e-mail channel (so the next channel is
tried) where it does not — never an error that stops the sender. A relay that takes the message but
answers too late has it: the send is in doubt, not a failure to try again."""

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

from services.shared.delivery.channels import ChannelSettings, InDoubt, Message
from services.shared.delivery.email import Mailer
from tests.support.infra import free_port

ADDRESS = "aino.mäkinen@example.com"


class Kept:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd's hook
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture(params=[True, False], ids=["smtputf8", "ascii-only"])
def relay(request):
    kept, port = Kept(), free_port()
    controller = Controller(kept, hostname="127.0.0.1", port=port, enable_SMTPUTF8=request.param)
    controller.start()
    yield request.param, kept, port
    controller.stop()


async def test_an_international_address_is_sent_where_the_relay_takes_it_and_refused_cleanly_elsewhere(relay):
    takes_utf8, kept, port = relay
    mailer = Mailer(ChannelSettings(smtp_port=port))
    handed = []

    async def handing_over() -> None:
        handed.append(True)

    send = mailer.send(uuid.uuid4(), ADDRESS, Message("Kysely: miten onnistuimme?", "Hei Äijä, kiitos!", "Kysely"),
                       datetime.now(UTC), handing_over)
    if takes_utf8:
        await send
        [envelope] = kept.envelopes
        assert envelope.rcpt_tos == [ADDRESS] and "Äijä".encode() in envelope.original_content
    else:
        with pytest.raises(aiosmtplib.SMTPNotSupported, match="SMTPUTF8"):
            await send
        assert handed == [] and kept.envelopes == []  # refused before anything was in flight


class Slow(Kept):
    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd's hook
        self.envelopes.append(envelope)
        await asyncio.sleep(1)  # the relay's answer, later than the sender waits
        return "250 OK"


class SlowToInvite(SMTP):
    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802 - aiosmtpd's hook
        await asyncio.sleep(1)  # its 354, later than the sender waits
        await super().smtp_DATA(arg)


class SlowToInviteController(Controller):
    def factory(self) -> SMTP:
        return SlowToInvite(self.handler, **self.SMTP_kwargs)


@contextmanager
def relay_of(controller: type[Controller], kept: Kept) -> Iterator[Mailer]:
    port = free_port()
    server = controller(kept, hostname="127.0.0.1", port=port)
    server.start()
    try:
        yield Mailer(ChannelSettings(smtp_port=port, smtp_timeout_s=0.2))
    finally:
        server.stop()


async def handed_over() -> None:
    pass


PAGE = Message("Sivu", "Kiireellinen.\n.Piste rivin alussa\n.", "Sivu")


async def test_a_relay_that_keeps_the_message_but_answers_late_leaves_it_in_doubt_not_failed():
    slow = Slow()
    with relay_of(Controller, slow) as mailer:
        with pytest.raises(InDoubt, match="Timeout"):
            await mailer.send(uuid.uuid4(), "aino.makinen@example.com", PAGE, datetime.now(UTC), handed_over)
    [envelope] = slow.envelopes
    assert envelope.rcpt_tos == ["aino.makinen@example.com"]
    assert envelope.content.decode().endswith("Kiireellinen.\r\n.Piste rivin alussa\r\n.\r\n")  # periods kept


async def test_a_relay_slow_to_invite_the_message_fails_the_attempt_with_nothing_in_flight():
    kept, handed = Kept(), []

    async def handing_over() -> None:
        handed.append(True)

    with relay_of(SlowToInviteController, kept) as mailer:
        with pytest.raises(aiosmtplib.SMTPTimeoutError):
            await mailer.send(uuid.uuid4(), "aino.makinen@example.com", PAGE, datetime.now(UTC), handing_over)
    assert (handed, kept.envelopes) == ([], [])  # tried again later, not taken as sent
