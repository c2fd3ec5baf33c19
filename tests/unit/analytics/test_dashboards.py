"""The Grafana dashboards and provisioning parse, point at the provisioned Prometheus, and query
only metrics the services expose, with labels those metrics have."""

import json
import re
from pathlib import Path

import yaml
from prometheus_client.metrics import MetricWrapperBase

from services.analytics.dashboards import DASHBOARDS_DIR
from services.analytics.domain.totals import METRICS
from services.analytics.metrics import ON_DUTY
from services.analytics.pipeline import DLQ, LAG
from services.notifications import metrics as notifications_metrics

REPO = Path(__file__).resolve().parents[3]
GRAFANA = REPO / "deploy" / "grafana"
SHARED_METRICS = {"http_requests_total", "http_request_duration_seconds_bucket", "up", LAG, DLQ, ON_DUTY}


def dashboards() -> dict[str, dict]:
    return {path.stem: json.loads(path.read_text()) for path in (REPO / DASHBOARDS_DIR).glob("*.json")}


def exposed_names() -> set[str]:
    names = set(SHARED_METRICS)
    for metric in METRICS.values():
        if metric.kind == "counter":
            names.add(f"{metric.name}_total")
        else:
            names |= {f"{metric.name}_bucket", f"{metric.name}_sum", f"{metric.name}_count"}
    for metric in vars(notifications_metrics).values():
        if isinstance(metric, MetricWrapperBase):
            for family in metric.describe():
                names |= {"counter": {f"{family.name}_total"}, "gauge": {family.name},
                          "histogram": {f"{family.name}_bucket", f"{family.name}_sum", f"{family.name}_count"}}[family.type]
    return names


def test_there_are_dashboards_for_ops_satisfaction_loss_prevention_and_the_regional_coordinator():
    assert set(dashboards()) == {"retail-ops", "retail-satisfaction", "retail-loss-prevention", "retail-region"}


def test_every_panel_queries_the_provisioned_prometheus_for_metrics_that_exist():
    datasource = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())["datasources"][0]
    known = exposed_names()
    for uid, dashboard in dashboards().items():
        for panel in dashboard["panels"]:
            assert panel["datasource"]["uid"] == datasource["uid"], (uid, panel["title"])
            for target in panel["targets"]:
                names = set(re.findall(r"\b(retail_[a-z_]+|notifications_[a-z_]+|http_[a-z_]+|up)\b", target["expr"]))
                assert names and names <= known, (uid, panel["title"], names - known)


def test_scoped_dashboards_have_region_and_store_variables_that_every_panel_uses():
    by_region = {f"{m.name}_total" for m in METRICS.values() if "store" not in m.labels}  # a region's totals have no store
    for uid, dashboard in dashboards().items():
        if uid == "retail-ops":
            continue
        assert [v["name"] for v in dashboard["templating"]["list"]] == ["region", "store"]
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                names = set(re.findall(r"\b(retail_[a-z_]+)\b", target["expr"]))
                assert 'region=~"$region"' in target["expr"], panel["title"]
                assert names <= by_region or 'store=~"$store"' in target["expr"], panel["title"]


def test_the_dashboard_provider_loads_the_folder_compose_mounts():
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/retail-care.yml").read_text())["providers"][0]
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./{DASHBOARDS_DIR}:{provider['options']['path']}:ro" in mounts
