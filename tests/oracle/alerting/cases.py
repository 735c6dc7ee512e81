"""promtool unit tests of every rule, built from short descriptions of the exported series.

Each input series is written once and scraped as an HA install sees it: two
routewatch pods, each scraped by two Prometheus replicas, with the labels a
Kubernetes ServiceMonitor and a query layer over both replicas add (``pod``,
``namespace``, ``endpoint``, ``instance``, ``prometheus_replica``). One
condition must still give exactly one alert, carrying only the labels that
identify its subject (plus ``group`` and ``description`` for prefixes).
A series may differ between the two pods (``pods=(a, b)``) to show that one
pod alone pages or not, as each rule means to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.oracle.alerting.exported import selector
from tests.oracle.alerting.promtool import RULES, expected_alert

JOB = "routewatch"
PODS = ("routewatch-0", "routewatch-1")
PROMETHEUS_REPLICAS = ("prometheus-k8s-0", "prometheus-k8s-1")
PREFIX = "192.0.2.0/24"
OTHER = "203.0.113.0/24"
OWNER = {"group": "dns-team", "description": "nameservers a and b"}
TARGET = {"zone": "example.com.", "nameserver": "a.ns.example.com.", "address": "192.0.2.53"}
OTHER_TARGET = {**TARGET, "nameserver": "b.ns.example.com.", "address": "198.51.100.53"}


def scrape_labels(pod: str, replica: str) -> dict[str, str]:
    return {"job": JOB, "namespace": "monitoring", "endpoint": "metrics", "pod": pod,
            "instance": f"10.1.0.{PODS.index(pod) + 10}:9108", "prometheus_replica": replica}


@dataclass(frozen=True)
class Series:
    """One exported series: the same values from both pods, or ``pods=(a, b)``."""

    name: str
    labels: dict[str, str]
    values: str = ""
    pods: tuple[str, str] | None = None

    def input_series(self) -> list[dict[str, str]]:
        out = []
        for index, pod in enumerate(PODS):
            values = self.pods[index] if self.pods else self.values
            for replica in PROMETHEUS_REPLICAS:
                out.append({"series": selector(self.name, {**self.labels, **scrape_labels(pod, replica)}),
                            "values": values})
        return out


def info(prefix: str, values: str, group: str = OWNER["group"], description: str = OWNER["description"]) -> Series:
    labels = {"prefix": prefix, "group": group, "description": description, "source": "config", "origins": "AS64500"}
    return Series("routewatch_bgp_prefix_info", labels, values)


@dataclass(frozen=True)
class Case:
    """One rule's test: quiet at ``quiet_before``, firing ``fired`` at ``fire_at``, quiet again at ``quiet_after``."""

    rule: str
    title: str
    series: list[Series]
    fire_at: str
    fired: list[tuple[dict[str, str], float]]
    quiet_before: str
    quiet_after: str
    extra_input: list[dict[str, str]] = field(default_factory=list)

    def promtool_test(self) -> dict[str, Any]:
        rule = RULES[self.rule]
        alerts = [expected_alert(rule, labels, value) for labels, value in self.fired]
        return {
            "name": f"{self.rule}: {self.title}",
            "interval": "30s",
            "input_series": [s for series in self.series for s in series.input_series()] + self.extra_input,
            "alert_rule_test": [
                {"eval_time": self.quiet_before, "alertname": self.rule, "exp_alerts": []},
                {"eval_time": self.fire_at, "alertname": self.rule, "exp_alerts": alerts},
                {"eval_time": self.quiet_after, "alertname": self.rule, "exp_alerts": []},
            ],
        }


def _state(prefix: str, state: str, values: str = "", pods: tuple[str, str] | None = None) -> Series:
    return Series("routewatch_bgp_prefix_state", {"prefix": prefix, "state": state}, values, pods)


def _prefix(labels: dict[str, str] | None = None, **extra: str) -> dict[str, str]:
    return {"prefix": PREFIX, **OWNER, **(labels or {}), **extra}
