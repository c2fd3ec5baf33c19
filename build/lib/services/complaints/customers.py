"""Customers are known to other services only by a keyed pseudonym of their contact data."""

import hashlib
import hmac


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
