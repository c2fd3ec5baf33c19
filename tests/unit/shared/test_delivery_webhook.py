"""A webhook's signature is checked the way a receiver checks it; a webhook URL into a private network
is refused where only public receivers may be called; a request sent whole whose answer never came is
in doubt (the receiver may have it), one that never reached the receiver is a failure to try again."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import httpx
import pytest

from services.shared.delivery.channels import InDoubt, Message
from services.shared.delivery.webhook import RefusedAddress, Webhook, check_public, signature, verify

KEY, BODY, NOW = b"receiver-and-sender-share-this", b'{"text": "Page"}', datetime(2026, 11, 30, 12, tzinfo=UTC)


def test_a_signature_verifies_only_with_its_key_its_body_and_in_time():
    signed = signature(KEY, NOW, BODY)
    assert signed.startswith(f"t={int(NOW.timestamp())},v1=")
    assert verify(KEY, signed, BODY, NOW + timedelta(minutes=4))
    assert not verify(b"another key", signed, BODY, NOW)
    assert not verify(KEY, signed, BODY.replace(b"Page", b"Paid"), NOW)
    assert not verify(KEY, signed, BODY, NOW + timedelta(minutes=6))  # replayed late
    assert not verify(KEY, "v1=abc", BODY, NOW) and not verify(KEY, "t=soon,v1=abc", BODY, NOW)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8001/v1/complaints", "https://10.0.0.5/hook", "http://[::1]/hook", "http://169.254.169.254/latest",
    "https://192.168.1.20/hook", "http://localhost:8006/v1/staff",
])
async def test_a_url_into_a_private_network_is_refused(url):
    with pytest.raises(RefusedAddress, match="not a public address"):
        await check_public(url)


async def test_a_public_address_passes():
    await check_public("https://1.1.1.1/hooks/on-duty")  # an address literal: no name to look up


@pytest.mark.parametrize(("failure", "outcome"), [
    (httpx.ReadTimeout("no answer"), InDoubt), (httpx.ConnectError("refused"), httpx.ConnectError),
    (httpx.RemoteProtocolError("closed before the request"), httpx.RemoteProtocolError),
])
async def test_a_request_without_an_answer_is_in_doubt_and_one_not_sent_fails(failure, outcome):
    handed = []

    def receiver(request: httpx.Request) -> httpx.Response:
        raise failure

    async def handing_over() -> None:
        handed.append(True)

    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as client:
        with pytest.raises(outcome):
            await Webhook(client, KEY).send(uuid4(), "https://hooks.example.com/on-duty", Message("Page", "Body", "Page"),
                                            NOW, handing_over)
    assert handed == [True]
