"""Event contracts: one module per topic, each listing its event types in EVENTS."""
