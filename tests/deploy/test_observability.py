"""Alert rules (promtool's unit tests) and Grafana dashboards (structure, PromQL, metric names)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from clikopro_chassis import metrics

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "alerts.yml"
RULE_TESTS = ROOT / "deploy" / "prometheus" / "alerts_test.yml"
DASHBOARDS = ROOT / "deploy" / "grafana"
#: Metrics from outside our code: RabbitMQ's Prometheus plugin.
EXTERNAL = re.compile(r"^rabbitmq_")


def promtool() -> str:
    path = shutil.which("promtool")
    if path:
        return path
    if os.environ.get("CI") == "true":
        pytest.fail("promtool is missing: .ci/run installs Debian's prometheus package")
    pytest.skip("promtool is not installed (apt-get install prometheus); CI installs it")


def test_the_alert_rules_pass_their_promtool_unit_tests() -> None:
    result = subprocess.run(
        [promtool(), "test", "rules", str(RULE_TESTS)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_a_wrong_expectation_fails_promtool(tmp_path: Path) -> None:
    # The unit tests can fail: the same tests with the outbox alert's threshold moved do.
    rules = RULES.read_text().replace("clikopro_outbox_oldest_pending_age_seconds) > 60", "x) > 60")
    (tmp_path / "alerts.yml").write_text(rules)
    (tmp_path / "alerts_test.yml").write_text(RULE_TESTS.read_text())
    result = subprocess.run(
        [promtool(), "test", "rules", str(tmp_path / "alerts_test.yml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "OutboxLagging" in result.stdout + result.stderr


def test_every_alert_named_in_the_issue_exists_and_is_tested() -> None:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    alerts = {rule["alert"] for group in groups for rule in group["rules"]}
    wanted = {
        "DeadLettersPresent",
        "OutboxLagging",
        "QueueGrowing",
        "QueueWithoutConsumer",
        "HighServerErrorRate",
        "PayoutsFailing",
        "RefundsFailing",
        "ErasureNotConfirmed",
    }
    assert wanted <= alerts
    tested = {
        case["alertname"]
        for test in yaml.safe_load(RULE_TESTS.read_text())["tests"]
        for case in test["alert_rule_test"]
        if case.get("exp_alerts")
    }
    assert alerts <= tested, f"alerts never shown firing in alerts_test.yml: {alerts - tested}"


def _exprs(dashboard: dict) -> list[str]:
    return [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]


def _our_metric_names() -> set[str]:
    names = set(metrics.BUSINESS_GAUGES)
    for collector in [v for v in vars(metrics).values() if hasattr(v, "_name")]:
        name = collector._name
        kind = getattr(collector, "_type", "")
        names |= {name, f"{name}_total", f"{name}_bucket", f"{name}_count", f"{name}_sum"}
        if kind == "counter":
            names.add(f"{name}_total")
    names.add("clikopro_gateway_refusals_total")  # the gateway's own
    return names


@pytest.mark.parametrize("name", ["traffic", "bus", "money"])
def test_each_dashboard_is_well_formed_and_queries_metrics_that_exist(name: str, tmp_path: Path) -> None:
    dashboard = json.loads((DASHBOARDS / f"{name}.json").read_text())
    assert dashboard["uid"] == f"clikopro-{name}" and dashboard["title"]
    assert dashboard["schemaVersion"] >= 36
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and len(ids) >= 5
    for panel in dashboard["panels"]:
        assert panel["type"] in {"timeseries", "stat", "gauge", "table"}
        assert {"h", "w", "x", "y"} <= set(panel["gridPos"])
        assert panel["targets"] and all(t["refId"] and t["expr"] for t in panel["targets"])
    known = _our_metric_names()
    for expr in _exprs(dashboard):
        for metric in re.findall(r"\b(clikopro_[a-z_]+|rabbitmq_[a-z_]+)\b", expr):
            assert metric in known or EXTERNAL.match(metric), f"{name}.json queries unknown {metric}"
    # Every expression is valid PromQL: promtool checks them as recording rules.
    exprs = [e.replace("$service", ".*") for e in _exprs(dashboard)]
    records = [{"record": f"r{i}", "expr": e} for i, e in enumerate(exprs)]
    rules = {"groups": [{"name": name, "rules": records}]}
    path = tmp_path / "exprs.yml"
    path.write_text(yaml.safe_dump(rules))
    result = subprocess.run([promtool(), "check", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
