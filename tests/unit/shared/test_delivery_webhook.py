"""A webhook's signature is checked the way a receiver checks it; a webhook URL into a private network
is refused where only public receivers may be called."""

from datetime import UTC, datetime, timedelta

import pytest

from services.shared.delivery.webhook import RefusedAddress, check_public, signature, verify

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
