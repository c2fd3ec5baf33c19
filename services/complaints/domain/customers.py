"""Customers are known to other services only by a keyed pseudonym of their contact data."""

import hashlib
import hmac
from datetime import timedelta

# A customer who complained within this window before is a repeat customer (routing weighs it).
# The event field that carries the count is named `prior_complaints_30d`, so the contract fixes
# the window: a different one would need a new field, not a setting.
REPEAT_WINDOW = timedelta(days=30)


def normalise_contact(email: str | None, phone: str | None) -> str:
    if email:
        return "email:" + email.strip().lower()
    if phone:
        return "phone:" + "".join(ch for ch in phone if ch.isdigit() or ch == "+")
    raise ValueError("a customer needs an email or a phone number")


def customer_ref(key: bytes, email: str | None, phone: str | None) -> str:
    """The same contact gives the same reference (so repeat complaints are recognised); without
    the key the reference cannot be linked back to the person. Email wins when both are given."""
    digest = hmac.new(key, normalise_contact(email, phone).encode(), hashlib.sha256).hexdigest()
    return f"cref_{digest[:32]}"
