"""When a failed delivery is tried again: exponential backoff with jitter, and when it is given up."""

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Backoff:
    """The n-th retry waits between half and all of `base × 2^(n-1)`, capped at `cap`; after
    `max_attempts` attempts the delivery is undeliverable."""

    base: timedelta
    cap: timedelta
    max_attempts: int

    def gives_up(self, attempts: int) -> bool:
        return attempts >= self.max_attempts

    def delay(self, attempts: int, rng: random.Random) -> timedelta:
        """The wait after the `attempts`-th failed attempt (1 for the first). The random half keeps
        deliveries that failed together (an SMTP server that went away) from retrying in lockstep."""
        ceiling = min(self.cap, self.base * 2 ** (attempts - 1))
        return ceiling / 2 + ceiling / 2 * rng.random()
