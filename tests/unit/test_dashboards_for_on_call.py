"""What on-call needs from the dashboards beyond valid JSON: variables that filter every query, detection
annotations, bounded all-prefix views, and links from a row to the prefix dashboard and the JSON API."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.tools import REPO

DASHBOARDS = REPO / "grafana" / "dashboards"
PER_PREFIX = re.compile(r"routewatch_bgp_prefix_(visibility_ratio|visible_peers)\b")


def load(name: str) -> dict[str, Any]:
    return json.loads((DASHBOARDS / f"routewatch-{name}.json").read_text())


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in dashboard["panels"] if p["type"] != "row"]


def exprs(dashboard: dict[str, Any]) -> Iterator[str]:
    for panel in panels(dashboard):
        for target in panel["targets"]:
            yield target["expr"]
    for annotation in dashboard["annotations"]["list"]:
        yield annotation["expr"]


def links(panel: dict[str, Any]) -> list[str]:
    return [link["url"] for link in panel["fieldConfig"]["defaults"].get("links", [])]


def variables(dashboard: dict[str, Any]) -> set[str]:
    return {v["name"] for v in dashboard["templating"]["list"]}


@pytest.mark.parametrize("name", ["overview", "prefix", "zone"])
def test_every_query_follows_the_replica_variable(name: str) -> None:
    dashboard = load(name)
    assert "instance" in variables(dashboard)
    for expr in exprs(dashboard):
        for selector in re.findall(r"routewatch_\w+(\{[^}]*\})?", expr):
            assert 'instance=~"$instance"' in selector, expr


def test_overview_prefix_queries_follow_the_group_variable() -> None:
    dashboard = load("overview")
    assert {"group", "topn", "api"} <= variables(dashboard)
    for expr in exprs(dashboard):
        if "routewatch_bgp_prefix_" in expr:
            assert 'group=~"$group"' in expr, expr


def test_overview_draws_at_most_topn_prefixes() -> None:
    for panel in panels(load("overview")):
        queries = [t["expr"] for t in panel["targets"]]
        if panel["type"] == "timeseries" and any(PER_PREFIX.search(q) for q in queries):
            assert all("bottomk($topn," in q or "topk($topn," in q for q in queries), panel["title"]


@pytest.mark.parametrize("name", ["overview", "prefix"])
def test_detections_are_annotations(name: str) -> None:
    annotations = " ".join(a["expr"] for a in load(name)["annotations"]["list"])
    assert "routewatch_bgp_detection_info" in annotations
    assert 'state="withdrawn"' in annotations or "withdrawn|pending" in annotations


def test_prefix_rows_link_to_the_prefix_dashboard_and_the_api() -> None:
    dashboard = load("overview")
    tables = [p for p in panels(dashboard) if p["type"] == "table" and "prefix" in p["targets"][0]["expr"]]
    assert len(tables) >= 2
    for table in tables:
        urls = links(table)
        to_dashboard = "/d/routewatch-prefix?var-prefix=${__data.fields.prefix}"
        assert any(u.startswith(to_dashboard) for u in urls), table["title"]
        assert "${api}/api/v1/prefixes/${__data.fields.prefix}" in urls, table["title"]


def test_per_upstream_and_per_collector_panels() -> None:
    overview = " ".join(exprs(load("overview")))
    assert "routewatch_bgp_prefix_visible_peers_by_upstream" in overview
    assert "routewatch_source_collector_up" in overview
    assert "routewatch_bgp_prefix_visible_peers_by_upstream" in " ".join(exprs(load("prefix")))


def test_the_zone_dashboard_is_per_zone_and_linked_from_the_overview() -> None:
    zone = load("zone")
    assert "zone" in variables(zone)
    assert all('zone="$zone"' in e for e in exprs(zone))
    nameservers = next(p for p in panels(load("overview")) if p["title"] == "Nameservers")
    assert any(u.startswith("/d/routewatch-zone?var-zone=${__data.fields.zone}") for u in links(nameservers))
