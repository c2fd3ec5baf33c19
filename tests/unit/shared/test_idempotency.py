"""Which retries of a POST count as the same request, and which keys are accepted."""

import pytest

from services.shared.errors import InvalidField
from services.shared.idempotency import check_key, fingerprint


def test_a_retry_is_the_same_request_only_with_the_same_path_and_body():
    original = fingerprint("/v1/complaints", b'{"store_id": "hel-kamppi"}')
    assert fingerprint("/v1/complaints", b'{"store_id": "hel-kamppi"}') == original
    assert fingerprint("/v1/complaints", b'{"store_id": "tre-koskikeskus"}') != original
    assert fingerprint("/v1/returns", b'{"store_id": "hel-kamppi"}') != original
    assert fingerprint("/v1/complaints", b'{"store_id":"hel-kamppi"}') != original  # byte for byte


@pytest.mark.parametrize("key", ["", "k" * 201])
def test_a_key_of_0_or_over_200_characters_is_refused_naming_the_header(key):
    with pytest.raises(InvalidField) as refused:
        check_key(key)
    assert refused.value.body()["detail"][0]["loc"] == ["body", "Idempotency-Key"]


@pytest.mark.parametrize("key", ["k", "k" * 200, "0f9c2a5e-retry-safe"])
def test_keys_of_1_to_200_characters_are_accepted(key):
    check_key(key)
