"""The complaints service's own Prometheus metrics (HTTP requests are counted by the shared web frame):
labels are a channel and an outcome, never a customer or an address."""

from prometheus_client import Counter, Histogram

from services.shared.delivery.engine import DeliveryMetrics

SURVEY_DELIVERIES = Counter(
    "complaints_survey_deliveries_total",
    "Attempts to send a CSAT survey link to a customer, by channel and outcome: sent, failed_over (the next channel "
    "tried), retried (tried again later), undeliverable (given up), in_doubt (handed over with no answer: taken as sent).",
    ["channel", "outcome"],
)
SURVEY_DELIVERY_SECONDS = Histogram(
    "complaints_survey_delivery_seconds",
    "Time from a complaint's resolution to its survey link's acceptance by the channel's server.",
    ["channel"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600),
)
SURVEY_DELIVERY = DeliveryMetrics(SURVEY_DELIVERIES, SURVEY_DELIVERY_SECONDS)
