"""The escalation service's decisions as pure functions: routing, paging, SLA tiers."""
