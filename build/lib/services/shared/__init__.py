"""What every service shares: event contracts, the topic registry, and the little plumbing
(settings, authentication, logs, Kafka and database setup, health and metrics endpoints)."""
