"""The Grafana dashboards, as data: each panel is a title, a PromQL query and a unit. `retail
generate` writes them to deploy/grafana/dashboards/ (a test fails when they drift), and the
end-to-end test runs every panel's query against a real Prometheus."""

import json
from dataclasses import dataclass
from pathlib import Path

DASHBOARDS_DIR = Path("deploy/grafana/dashboards")
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
# Panels filter by the dashboard's variables; `=~` so that "All" (.*) works.
SCOPE = 'region=~"$region", store=~"$store"'


@dataclass(frozen=True)
class Panel:
    title: str
    expr: str
    unit: str = "short"
    kind: str = "timeseries"
    legend: str = ""
    description: str = ""


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    panels: tuple[Panel, ...]
    scoped: bool = True  # with region and store variables


def _quantiles(quantiles: dict[str, float], buckets: str) -> str:
    """Several quantiles of one histogram in one query, told apart by a quantile label."""
    return " or ".join(f'label_replace(histogram_quantile({q}, {buckets}), "quantile", "{name}", "", "")'
                       for name, q in quantiles.items())


DASHBOARDS = (
    Dashboard("retail-ops", "Retail care — operations", scoped=False, panels=(
        Panel("HTTP requests per second by service", "sum by (job) (rate(http_requests_total[5m]))", "reqps", legend="{{job}}"),
        Panel("HTTP errors per second (5xx)", 'sum by (job) (rate(http_requests_total{status=~"5.."}[5m])) or vector(0)',
              "reqps", legend="{{job}}"),
        Panel("HTTP latency p95", "histogram_quantile(0.95, sum by (job, le) (rate(http_request_duration_seconds_bucket[5m])))",
              "s", legend="{{job}}"),
        Panel("Events counted per second (analytics)", "sum(rate(retail_complaints_filed_total[5m])) + sum(rate(retail_return_requests_total[5m]))",
              "ops"),
        Panel("Services up", "up", "short", legend="{{job}}"),
        # Every analytics replica exports the same broker-wide figures: max over the replicas.
        Panel("Consumer lag by group", "max by (group, topic) (retail_kafka_consumer_lag_messages)",
              legend="{{group}}: {{topic}}",
              description="Records each consumer group has still to read, per input topic."),
        Panel("Messages in dead-letter queues", "max by (topic) (retail_dlq_messages)", legend="{{topic}}",
              description="Records that failed validation and wait in each topic's DLQ with the reason."),
        Panel("Deliveries per second by channel and outcome (notifications)",
              "sum by (channel, outcome) (rate(notifications_deliveries_total[5m]))", "ops", legend="{{channel}}: {{outcome}}",
              description="failed_over: the channel failed and the next was tried; retried: every channel failed, tried "
              "again later; undeliverable: given up and dead-lettered; in_doubt: handed over with no answer (its sender "
              "died, the channel timed out), taken as sent."),
        Panel("Delivery time p50 and p99 by channel (notifications)",
              _quantiles({'p50': 0.5, 'p99': 0.99}, 'sum by (channel, le) (rate(notifications_delivery_seconds_bucket[1h]))'),
              "s", legend="{{channel}} {{quantile}}", description="From the notification's event to its hand-over to the channel."),
        # Every notifications replica counts the same delivery store: max over the replicas.
        Panel("Overdue deliveries by kind (notifications)", "max by (kind) (notifications_overdue_deliveries)",
              legend="{{kind}}", description="Still not delivered two minutes after they were recorded; a page here "
              "has not reached anyone."),
        Panel("Time to acknowledge p50 and p90 (notifications)",
              _quantiles({'p50': 0.5, 'p90': 0.9}, 'sum by (le) (rate(notifications_acknowledge_seconds_bucket[1h]))'),
              "s", legend="{{quantile}}", description="From the notification's event to its acknowledgement from the message's link."),
    )),
    Dashboard("retail-satisfaction", "Retail care — customer satisfaction", panels=(
        Panel("Complaints filed per hour by category",
              f"sum by (category) (increase(retail_complaints_filed_total{{{SCOPE}}}[1h]))", legend="{{category}}"),
        Panel("CSAT (mean of answers, last day)",
              f"sum(increase(retail_csat_score_sum{{{SCOPE}}}[1d])) / sum(increase(retail_csat_score_count{{{SCOPE}}}[1d]))",
              kind="stat"),
        Panel("CSAT answers by score", f'sum by (le) (retail_csat_score_bucket{{{SCOPE}}})', kind="bargauge", legend="≤ {{le}}"),
        Panel("CSAT response rate", f"sum(retail_csat_score_count{{{SCOPE}}}) / sum(retail_csat_surveys_issued_total{{{SCOPE}}})",
              "percentunit", kind="stat"),
        Panel("Time to acknowledge, p90",
              f"histogram_quantile(0.9, sum by (le) (rate(retail_complaint_acknowledge_seconds_bucket{{{SCOPE}}}[1d])))", "s"),
        Panel("Time to resolve, p90",
              f"histogram_quantile(0.9, sum by (le) (rate(retail_complaint_resolve_seconds_bucket{{{SCOPE}}}[1d])))", "s"),
        Panel("First-contact resolution rate",
              f'sum(retail_complaints_resolved_total{{{SCOPE}, first_contact="true"}}) / sum(retail_complaints_resolved_total{{{SCOPE}}})',
              "percentunit", kind="stat"),
        Panel("Escalations by tier", f"sum by (tier) (retail_escalations_routed_total{{{SCOPE}}})", legend="{{tier}}"),
        Panel("SLA breaches by tier", f"sum by (tier) (retail_sla_breaches_total{{{SCOPE}}})", legend="{{tier}}"),
        Panel("Pages", f"sum(retail_pages_total{{{SCOPE}}})", kind="stat"),
        # A store with resolutions but no reopens (or no escalations) has a rate of 0, not none.
        Panel("Reopen rate (reopened / resolved)",
              f"(sum(retail_complaints_reopened_total{{{SCOPE}}}) or vector(0)) / sum(retail_complaints_resolved_total{{{SCOPE}}})",
              "percentunit", kind="stat", description="Resolved complaints the customer came back on and reopened."),
        Panel("Reopen rate by resolution step taken",
              f"sum by (step) (retail_reopened_resolution_steps_total{{{SCOPE}}})"
              f" / sum by (step) (retail_resolution_steps_total{{{SCOPE}}} > 0)",
              "percentunit", legend="{{step}}",
              description="Of the resolutions that recorded taking a step of the technique (defuse, isolate the core "
              "problem, address the concerns), the share reopened afterwards; a step rarely taken by resolutions that "
              "come back is one to coach."),
        Panel("Escalation rate (raised a tier after a missed deadline / complaints filed)",
              f"(sum(retail_escalations_raised_total{{{SCOPE}}}) or vector(0)) / sum(retail_complaints_filed_total{{{SCOPE}}})",
              "percentunit", kind="stat",
              description="How often a complaint had to move up a tier because its deadline passed, per complaint "
              "filed (raised twice counts twice). Complaints the rules route straight to a manager are in "
              "'Escalations by tier'."),
    )),
    Dashboard("retail-loss-prevention", "Retail care — loss prevention", panels=(
        Panel("Returns by decision", f"sum by (decision) (retail_returns_total{{{SCOPE}}})", legend="{{decision}}"),
        Panel("Value given back by tender", f"sum by (tender) (retail_returns_value_euros_total{{{SCOPE}}})",
              "currencyEUR", legend="{{tender}}"),
        Panel("No-receipt share of requests",
              f'sum(retail_return_requests_total{{{SCOPE}, receipt="no"}} or vector(0)) / sum(retail_return_requests_total{{{SCOPE}}})',
              "percentunit", kind="stat"),
        Panel("Rejections by policy rule", f"sum by (rule) (retail_return_rejections_total{{{SCOPE}}})", legend="{{rule}}"),
        Panel("Declined by a store manager, by reason", f"sum by (reason) (retail_returns_declined_total{{{SCOPE}}})",
              legend="{{reason}}", description="Requests over the approval amount the store manager declined."),
        Panel("Policy exceptions by rule", f"sum by (rule) (retail_policy_exceptions_total{{{SCOPE}}})", legend="{{rule}}"),
        Panel("Value given back by exception", f"sum(retail_policy_exceptions_value_euros_total{{{SCOPE}}})", "currencyEUR",
              kind="stat"),
        Panel("Loss-prevention signals by metric", f"sum by (metric) (retail_lossprevention_signals_total{{{SCOPE}}})",
              legend="{{metric}}"),
        Panel("Loss-prevention signals by training status",
              f"sum by (training) (retail_lossprevention_signals_by_training_total{{{SCOPE}}})", legend="{{training}}",
              description="Signals about a staff member by whether they had completed the returns training when "
              "signalled (both metrics are about returns)."),
    )),
    Dashboard("retail-region", "Retail care — regional coordinator", panels=(
        Panel("Complaints by store", f"sum by (store) (retail_complaints_filed_total{{{SCOPE}}})", legend="{{store}}"),
        Panel("SLA breaches by store", f"sum by (store) (retail_sla_breaches_total{{{SCOPE}}})", legend="{{store}}"),
        Panel("Complaints per staffed hour by store (last hour)",
              f"(sum by (store) (increase(retail_complaints_filed_total{{{SCOPE}}}[1h]))"
              f" or 0 * sum by (store) (avg_over_time(retail_staff_on_duty{{{SCOPE}}}[1h])))"
              f" / sum by (store) (avg_over_time(retail_staff_on_duty{{{SCOPE}}}[1h]) > 0)",
              legend="{{store}}",
              description="Complaints filed in the last hour per hour of scheduled shifts of the store's associates, "
              "coordinators and store managers; none while no one was on duty."),
        Panel("SLA-breach rate by store (last day)",
              f"(sum by (store) (increase(retail_sla_breaches_total{{{SCOPE}}}[1d]))"
              f" or 0 * sum by (store) (increase(retail_escalations_routed_total{{{SCOPE}}}[1d])))"
              f" / sum by (store) (increase(retail_escalations_routed_total{{{SCOPE}}}[1d]))",
              "percentunit", legend="{{store}}",
              description="Missed deadlines per complaint routed in the last day; a store with none missed shows 0."),
        Panel("CSAT by store", f"sum by (store) (retail_csat_score_sum{{{SCOPE}}}) / sum by (store) (retail_csat_score_count{{{SCOPE}}})",
              legend="{{store}}"),
        Panel("Rejected returns by store", f'sum by (store) (retail_returns_total{{{SCOPE}, decision="rejected"}})',
              legend="{{store}}"),
        Panel("Common problems detected by category", 'sum by (category) (retail_common_problems_detected_total{region=~"$region"})',
              legend="{{category}}", description="Problems seen across several of the region's stores at once."),
        Panel("Policy proposals and decisions",
              'sum(retail_policy_proposals_total{region=~"$region"}) or vector(0)', kind="stat",
              description="Policy changes the region's coordinators proposed to senior management."),
        Panel("Policy decisions by outcome", 'sum by (decision) (retail_policy_decisions_total{region=~"$region"})',
              legend="{{decision}}"),
    )),
)


def _variable(name: str, query: str) -> dict:
    return {
        "name": name, "label": name.title(), "type": "query", "datasource": DATASOURCE, "query": query,
        "definition": query, "refresh": 2, "includeAll": True, "multi": True, "allValue": ".*",
        "current": {"text": "All", "value": "$__all"},
    }


def grafana_json(dashboard: Dashboard) -> dict:
    panels = []
    for index, panel in enumerate(dashboard.panels):
        panels.append({
            "id": index + 1, "type": panel.kind, "title": panel.title, "description": panel.description,
            "datasource": DATASOURCE,
            "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
            "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
            "targets": [{"refId": "A", "datasource": DATASOURCE, "expr": panel.expr, "legendFormat": panel.legend}],
        })
    variables = [
        _variable("region", "label_values(retail_complaints_filed_total, region)"),
        _variable("store", 'label_values(retail_complaints_filed_total{region=~"$region"}, store)'),
    ] if dashboard.scoped else []
    return {
        "uid": dashboard.uid, "title": dashboard.title, "schemaVersion": 39, "version": 1, "editable": False,
        "time": {"from": "now-24h", "to": "now"}, "refresh": "30s", "tags": ["retail-care"],
        "templating": {"list": variables}, "panels": panels,
    }


def dashboard_files() -> dict[Path, str]:
    return {
        DASHBOARDS_DIR / f"{dashboard.uid}.json": json.dumps(grafana_json(dashboard), indent=2, ensure_ascii=False) + "\n"
        for dashboard in DASHBOARDS
    }
