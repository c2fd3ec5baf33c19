"""The service's Prometheus metrics: labels are the channel, the outcome and the kind of failure, never a
person or an address."""

from prometheus_client import Counter, Gauge, Histogram

DELIVERIES = Counter(
    "notifications_deliveries_total",
    "Delivery attempts by channel and outcome: sent; failed_over (the channel failed, the next one is tried); retried "
    "(every channel failed, tried again later); undeliverable (given up, dead-lettered); in_doubt (handed over with no "
    "answer: its sender died, or the channel timed out: taken as sent, not sent again).",
    ["channel", "outcome"],
)
DELIVERY_SECONDS = Histogram(
    "notifications_delivery_seconds", "Time from a notification's event to its delivery to the channel's server.", ["channel"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600),
)
ACKNOWLEDGEMENTS = Counter(
    "notifications_acknowledgements_total",
    "Acknowledge links opened, by outcome: acknowledged, already_acknowledged (someone else was first), refused.",
    ["outcome"],
)
ACKNOWLEDGE_SECONDS = Histogram(
    "notifications_acknowledge_seconds", "Time from a notification's event to its acknowledgement from the message.",
    buckets=(10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200),
)
FOLLOW_UPS = Counter(
    "notifications_follow_ups_total",
    "Pages nobody acknowledged in time, followed up: sent_again (to the same person), next_tier (to the next tier's "
    "person on duty).",
    ["step"],
)
OVERDUE = Gauge(
    "notifications_overdue_deliveries",
    "Deliveries still not delivered two minutes after they were recorded, by kind (a page here is a page not reaching anyone).",
    ["kind"],
)
