"""The escalation service: routing, SLA tiers, paging, regional boards, common problems (issue 4)."""
