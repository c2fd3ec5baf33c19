"""An acknowledge link says which delivery it acknowledges until it expires, and only with the key it was signed with."""

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from services.notifications.domain.links import ExpiredLink, ForgedLink, MalformedLink, sign, verify

KEY = b"k" * 32
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(hours=2)


def test_a_signed_link_names_its_delivery_until_it_expires():
    delivery = uuid4()
    assert verify(sign(delivery, EXPIRES, KEY), KEY, NOW) == delivery
    assert verify(sign(delivery, EXPIRES, KEY), KEY, EXPIRES - timedelta(seconds=1)) == delivery


def test_an_expired_link_is_refused_with_its_expiry():
    with pytest.raises(ExpiredLink, match="expired at 2027-03-01T11:00:00"):
        verify(sign(uuid4(), EXPIRES, KEY), KEY, EXPIRES)


def test_a_link_signed_with_another_key_is_forged():
    with pytest.raises(ForgedLink, match="not issued by the notifications service"):
        verify(sign(uuid4(), EXPIRES, b"other" * 8), KEY, NOW)


@pytest.mark.parametrize("change", ["delivery", "expiry"])
def test_a_link_whose_delivery_or_expiry_was_changed_is_forged(change: str):
    delivery, expires, signature = sign(uuid4(), EXPIRES, KEY).split(".")
    changed = f"{uuid4()}.{expires}" if change == "delivery" else f"{delivery}.{int(expires) + 86400}"
    with pytest.raises(ForgedLink):
        verify(f"{changed}.{signature}", KEY, NOW)


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c.d"])
def test_a_damaged_link_is_malformed(token: str):
    with pytest.raises(MalformedLink, match="incomplete or damaged"):
        verify(token, KEY, NOW)
