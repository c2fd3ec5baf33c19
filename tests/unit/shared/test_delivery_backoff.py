"""A failed delivery waits longer after each attempt, jittered, capped, and is given up after the limit."""

import random
from datetime import timedelta

from services.shared.delivery.retry import Backoff

BACKOFF = Backoff(base=timedelta(seconds=2), cap=timedelta(minutes=5), max_attempts=5)


def test_each_wait_is_between_half_and_all_of_a_doubling_ceiling():
    rng = random.Random(7)
    for attempts, ceiling in [(1, 2), (2, 4), (3, 8), (4, 16)]:
        for _ in range(200):
            wait = BACKOFF.delay(attempts, rng)
            assert timedelta(seconds=ceiling / 2) <= wait <= timedelta(seconds=ceiling)


def test_the_wait_is_capped():
    rng = random.Random(7)
    assert all(BACKOFF.delay(30, rng) <= timedelta(minutes=5) for _ in range(200))


def test_waits_are_spread_so_deliveries_that_failed_together_do_not_retry_together():
    rng = random.Random(7)
    assert len({BACKOFF.delay(3, rng) for _ in range(50)}) > 40


def test_a_delivery_is_given_up_after_the_last_attempt():
    assert not BACKOFF.gives_up(4)
    assert BACKOFF.gives_up(5)
