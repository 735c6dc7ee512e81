"""Every metric an alert rule or a dashboard panel names is one routewatch exports and documents.

"Exports" is taken from the exporter itself, rendering an ``ExportState`` with
every part present (``tests/support/metrics.py``), not from a list kept here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from routewatch.alerting.rules import METRIC_NAME, rules
from tests.support.metrics import full_state, scrape
from tests.support.tools import REPO

DASHBOARDS = sorted((REPO / "grafana" / "dashboards").glob("*.json"))


def _exprs(node: object) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("expr", "query", "definition") and isinstance(value, str):
                yield value
            else:
                yield from _exprs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _exprs(item)


def dashboard_metrics(path: Path) -> set[str]:
    return {name for expr in _exprs(json.loads(path.read_text())) for name in METRIC_NAME.findall(expr)}


def rule_metrics() -> set[str]:
    return set().union(*(rule.metric_names() for rule in rules()))


@pytest.fixture(scope="module")
def emitted() -> set[str]:
    return {sample.name for family in text_string_to_metric_families(scrape(full_state()).decode())
            for sample in family.samples}


@pytest.fixture(scope="module")
def documented() -> set[str]:
    return set(METRIC_NAME.findall((REPO / "docs" / "metrics.md").read_text()))


def test_dashboards_exist() -> None:
    assert [p.name for p in DASHBOARDS] == ["routewatch-overview.json", "routewatch-prefix.json",
                                            "routewatch-zone.json"]


def test_rules_name_only_exported_and_documented_metrics(emitted: set[str], documented: set[str]) -> None:
    used = rule_metrics()
    assert used, "no metric found in the rules"
    assert used - emitted == set()
    assert used - documented == set()


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.name for p in DASHBOARDS])
def test_dashboards_name_only_exported_and_documented_metrics(path: Path, emitted: set[str],
                                                              documented: set[str]) -> None:
    used = dashboard_metrics(path)
    assert len(used) >= 10, used
    assert used - emitted == set()
    assert used - documented == set()


def test_the_overview_shows_what_on_call_needs() -> None:
    used = dashboard_metrics(REPO / "grafana" / "dashboards" / "routewatch-overview.json")
    for needed in ("routewatch_bgp_prefix_visibility_ratio", "routewatch_bgp_detections_open",
                   "routewatch_dns_nameserver_up", "routewatch_dns_query_duration_seconds", "routewatch_dns_soa_serial",
                   "routewatch_dns_nameserver_peers_at_risk", "routewatch_source_up", "routewatch_source_lag_seconds"):
        assert needed in used, needed


def test_the_prefix_dashboard_is_driven_by_its_variable() -> None:
    dashboard = json.loads((REPO / "grafana" / "dashboards" / "routewatch-prefix.json").read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["prefix"]["type"] == "query"
    bgp = [e for e in _exprs(dashboard["panels"]) if "routewatch_bgp_prefix_" in e]
    assert bgp and all('prefix="$prefix"' in e for e in bgp)


def test_the_regex_sees_every_name_in_an_expression() -> None:
    assert METRIC_NAME.findall("rate(routewatch_source_messages_total[5m]) / routewatch_x2_y") == [
        "routewatch_source_messages_total", "routewatch_x2_y"]
    assert re.fullmatch(METRIC_NAME, "routewatch_bgp_prefix_state")


def test_the_zone_dashboard_shows_each_address_and_the_zone() -> None:
    used = dashboard_metrics(REPO / "grafana" / "dashboards" / "routewatch-zone.json")
    for needed in ("routewatch_dns_nameserver_up", "routewatch_dns_nameserver_transport_up",
                   "routewatch_dns_query_duration_seconds", "routewatch_dns_soa_serial",
                   "routewatch_dns_zone_serials_agree",
                   "routewatch_dns_dnssec_state", "routewatch_dns_nameserver_peers_at_risk",
                   "routewatch_dns_nameserver_baseline_peers"):
        assert needed in used, needed
