"""deploy/grafana-dashboard.json: valid JSON, importable, and asking only for metrics the service exports."""

import json
import os
import re
import shutil
import subprocess

import pytest
from prometheus_client import REGISTRY

import app.metrics  # noqa: F401 - registers the product metrics in the default registry
from tests.databases import ROOT

DASHBOARD = os.path.join(ROOT, "deploy", "grafana-dashboard.json")
METRIC_NAME = re.compile(r"\b(?:ticket|flask)_[a-zA-Z0-9_]*")
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "summary": ("_count", "_sum")}

# prometheus-flask-exporter's metrics (group_by="endpoint"), by family name and type.
FLASK_EXPORTER = {
    "flask_http_request_duration_seconds": "histogram",
    "flask_http_request": "counter",
    "flask_http_request_exceptions": "counter",
    "flask_exporter_info": "gauge",
}


@pytest.fixture(autouse=True)
def clean_tables():
    """Override the suite's table cleaning: these tests read files and need no database."""
    yield


def series_names(families):
    """Return the series names a scrape shows for `(name, type)` metric families."""
    names = set()
    for name, kind in families:
        names.update(name + suffix for suffix in SUFFIXES.get(kind, ("",)))
    return names


def exported_names():
    product = [(family.name, family.type) for family in REGISTRY.collect() if family.name.startswith("ticket_")]
    assert product, "app.metrics registered no ticket_ metric"
    return series_names(product) | series_names(FLASK_EXPORTER.items())


def load_dashboard():
    with open(DASHBOARD, encoding="utf-8") as f:
        return json.load(f)


def panels(dashboard):
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def expressions(dashboard):
    return [target["expr"] for panel in panels(dashboard) for target in panel.get("targets", [])]


def test_dashboard_is_importable_with_a_prometheus_data_source_input():
    dashboard = load_dashboard()
    assert dashboard["schemaVersion"] >= 36
    assert [i["name"] for i in dashboard["__inputs"] if i["pluginId"] == "prometheus"] == ["DS_PROMETHEUS"]
    assert "DS_PROMETHEUS" in [v["name"] for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    ids = [panel["id"] for panel in panels(dashboard)]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    for panel in panels(dashboard):
        for holder in [panel, *panel.get("targets", [])]:
            if "datasource" in holder:
                assert holder["datasource"]["uid"] == "${DS_PROMETHEUS}", panel["title"]


def test_every_metric_in_the_dashboard_is_exported_by_the_service():
    exported = exported_names()
    exprs = expressions(load_dashboard())
    assert len(exprs) >= 15
    used = {name for expr in exprs for name in METRIC_NAME.findall(expr)}
    assert used, "no ticket_ or flask_ metric found in the dashboard"
    assert sorted(used - exported) == []
    product = {name for name in exported if name.startswith("ticket_")}
    assert {name for name in product if not name.endswith(("_count", "_sum"))} - used == set(), (
        "every product metric has a panel"
    )


def test_every_expression_is_valid_promql(tmp_path):
    promtool = os.environ.get("PROMTOOL") or shutil.which("promtool") or os.path.join(ROOT, ".run", "tools", "promtool")
    if not os.path.exists(promtool):
        pytest.skip("promtool not found (make .run/tools/promtool)")
    rules = {
        "groups": [{
            "name": "dashboard",
            "rules": [
                {"record": f"dashboard:expr_{i}", "expr": expr.replace("$__rate_interval", "5m")}
                for i, expr in enumerate(expressions(load_dashboard()))
            ],
        }]
    }
    rules_file = tmp_path / "dashboard.rules.yml"
    rules_file.write_text(json.dumps(rules))  # JSON is YAML
    check = subprocess.run([promtool, "check", "rules", str(rules_file)], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
