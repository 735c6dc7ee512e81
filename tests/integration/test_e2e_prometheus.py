"""End to end: routewatch run, real Knot/NSD nameservers, a real Prometheus with routewatch's alert rules.

The scenario is the 2021-10-04 story on loopback. The facebook.com delegation
is served by real servers on 127.53.N.x (``tests/support/dns_servers.py``);
BGP comes as MRT files (``tests/support/mrt_writer.py``) dropped into a
directory the ``mrt`` source follows: ten collector peers see the /29 that
serves the four nameservers and a covering /16 that stays announced. The test
withdraws the /29 at eight peers and stops the Knot serving a.ns, sees the
withdrawal, nameserver-down and DNS-at-risk alerts firing at Prometheus'
``/api/v1/alerts``, then restores both and sees them resolve.

Rules: ``deploy/prometheus/routewatch-rules.yml`` itself, with one change so
the test takes seconds rather than minutes: every group is evaluated each
second, every ``for:`` becomes 1s and ``keep_firing_for:`` is dropped. The
expressions are untouched; the alerts are found by the metric their
expression reads, not by name.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support.daemon import Daemon, exporter_port, wait_for
from tests.support.dns_servers import LETTERS, Lab, facebook_lab, free_port
from tests.support.mrt_writer import Update, write_updates
from tests.support.tools import REPO, require_tool

pytestmark = pytest.mark.integration

RULES = REPO / "deploy" / "prometheus" / "routewatch-rules.yml"
ORIGIN = 32934
PEERS = 10
GONE = range(1, 9)
AGGREGATE = "127.53.0.0/16"
SIGNALS = {
    "withdrawal": 'routewatch_bgp_prefix_state{state="withdrawn"}',
    "nameserver down": "routewatch_dns_nameserver_up",
    "dns at risk": "routewatch_dns_nameserver_peers_at_risk",
}
DEADLINE = 30.0
"""Upper bound for one transition to show at Prometheus; it takes a few seconds."""


def dashboard_query(dashboard: str, name: str, **variables: str) -> str:
    """The first query of the panel (by title) or annotation (by name) of ``routewatch-<dashboard>.json``, with
    ``$instance`` as every replica and the given variables substituted."""
    document = json.loads((REPO / "grafana" / "dashboards" / f"routewatch-{dashboard}.json").read_text())
    queries = {p["title"]: p["targets"][0]["expr"] for p in document["panels"] if p["type"] != "row"}
    queries |= {a["name"]: a["expr"] for a in document["annotations"]["list"]}
    text = queries[name].replace("$instance", ".*")
    for variable, value in variables.items():
        text = text.replace(f"${variable}", value)
    return text


def fast_rules(target: Path) -> dict[str, str]:
    """Write the test variant of the rules; return {signal: alert name} for the three alerts under test."""
    document = yaml.safe_load(RULES.read_text())
    names: dict[str, str] = {}
    for group in document["groups"]:
        group["interval"] = "1s"
        for rule in group["rules"]:
            if "for" in rule:
                rule["for"] = "1s"
            rule.pop("keep_firing_for", None)
            for key, metric in SIGNALS.items():
                if metric in rule.get("expr", "") and key not in names:
                    names[key] = rule["alert"]
    assert set(names) == set(SIGNALS), f"no rule reads {set(SIGNALS) - set(names)} in {RULES}"
    target.write_text(yaml.safe_dump(document, sort_keys=False))
    return names


class Prometheus:
    def __init__(self, workdir: Path, scrape_port: int, rules: Path, extra_targets: Sequence[int] = ()) -> None:
        self.port = free_port(["127.0.0.1"])
        config = workdir / "prometheus.yml"
        config.write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(rules)],
            "scrape_configs": [{"job_name": "routewatch",
                                "static_configs": [{"targets": [f"127.0.0.1:{port}"
                                                                for port in (scrape_port, *extra_targets)]}]}],
        }))
        self.log = (workdir / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [require_tool("prometheus"), f"--config.file={config}", f"--storage.tsdb.path={workdir / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}"], stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self._ready, DEADLINE, "Prometheus to be ready")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"prometheus exited with {self.process.returncode}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.port}/-/ready", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def alerts(self) -> list[dict[str, Any]]:
        response = httpx.get(f"http://127.0.0.1:{self.port}/api/v1/alerts", timeout=5)
        response.raise_for_status()
        return list(response.json()["data"]["alerts"])

    def query(self, expr: str) -> list[dict[str, Any]]:
        response = httpx.get(f"http://127.0.0.1:{self.port}/api/v1/query", params={"query": expr}, timeout=5)
        response.raise_for_status()
        return list(response.json()["data"]["result"])

    def firing(self, name: str) -> list[dict[str, Any]]:
        return [a for a in self.alerts() if a["labels"]["alertname"] == name and a["state"] == "firing"]

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.log.close()


def routes(t: int, peers: range, prefixes: list[str]) -> list[Update]:
    return [Update(t, f"192.0.2.{n}", 64500 + n, prefixes, [64500 + n, 3356, ORIGIN]) for n in peers]


def config_text(lab: Lab, service: str, port: int) -> str:
    addresses = [lab.address(letter) for letter in LETTERS]
    service_prefixes = "\n".join(f"      \"{a}\": [\"{service}\"]" for a in addresses)
    return f"""
prefixes:
  - prefix: {service}
    asn: {ORIGIN}
    description: serves a-d.ns.facebook.com
    thresholds: {{hold_down: 1}}
zones:
  - zone: facebook.com
    parent_servers: ["{lab.address('com')}"]
    service_prefixes:
{service_prefixes}
sources:
  - type: mrt
    name: collectors
    files: ["feed/*.mrt"]
    follow: true
    poll_interval: 0.2
    collector: rrc00
bgp:
  baseline_min_hold: 1
  bootstrap: {{mrt_files: [rrc00.rib.mrt], ripestat: false}}
dns:
  port: {lab.port}
  interval: 1
  jitter: 0
  timeout: 0.5
  retries: 0
  tcp_interval: 2
  rediscover_interval: 3600
exporter: {{listen: 127.0.0.1, port: {port}}}
"""


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    require_tool("knotd")
    require_tool("nsd")
    lab = facebook_lab(tmp_path / "dns", ipv6=False)
    yield lab
    lab.stop()


@pytest.mark.timeout(120)
def test_withdrawal_nameserver_down_and_dns_at_risk_fire_at_prometheus_and_resolve(tmp_path: Path, lab: Lab) -> None:
    require_tool("prometheus")
    names = fast_rules(tmp_path / "rules.yml")
    service = lab.block + "8/29"  # a..d.ns are .11-.14: one prefix serves all four, as on 2021-10-04
    (tmp_path / "feed").mkdir()
    write_updates(tmp_path / "rrc00.rib.mrt", routes(int(time.time()) - 5, range(1, PEERS + 1), [service, AGGREGATE]))
    port = exporter_port()
    (tmp_path / "routewatch.yaml").write_text(config_text(lab, service, port))
    daemon = Daemon(tmp_path / "routewatch.yaml", port, tmp_path).start()
    prometheus: Prometheus | None = None
    a = {"zone": "facebook.com.", "nameserver": "a.ns.facebook.com.", "address": lab.address("a")}
    try:
        prometheus = Prometheus(tmp_path, port, tmp_path / "rules.yml")
        wait_for(lambda: daemon.value("routewatch_dns_nameserver_up", **a) == 1
                 and daemon.value("routewatch_dns_nameserver_baseline_peers", **a) == PEERS, DEADLINE,
                 "nameserver a answering and its routes known")
        p = prometheus
        wait_for(lambda: httpx.get(f"http://127.0.0.1:{p.port}/api/v1/query",
                                   params={"query": "routewatch_dns_nameserver_up"}).json()["data"]["result"],
                 DEADLINE, "Prometheus to scrape routewatch")
        assert all(not p.firing(name) for name in names.values())

        write_updates(tmp_path / "feed" / "0001-withdraw.mrt",
                      [Update(int(time.time()), f"192.0.2.{n}", 64500 + n, withdrawn=[service]) for n in GONE])
        lab.servers["a"].stop()

        withdrawn = wait_for(lambda: p.firing(names["withdrawal"]), DEADLINE, "the withdrawal alert")
        assert {alert["labels"]["prefix"] for alert in withdrawn} == {service}
        assert withdrawn[0]["labels"]["group"] == "default"
        assert withdrawn[0]["labels"]["description"] == "serves a-d.ns.facebook.com"
        assert withdrawn[0]["labels"]["severity"] == "critical"
        down = wait_for(lambda: p.firing(names["nameserver down"]), DEADLINE, "the nameserver-down alert")
        assert {alert["labels"]["address"] for alert in down} == {lab.address("a")}
        at_risk = wait_for(lambda: p.firing(names["dns at risk"]), DEADLINE, "the DNS-at-risk alert")
        assert {alert["labels"]["address"] for alert in at_risk} == {lab.address(letter) for letter in LETTERS}
        assert daemon.value("routewatch_dns_nameserver_peers_at_risk", **a) == len(GONE)

        # what the dashboards show meanwhile, asked of the same Prometheus
        zone = {"zone": "facebook.com."}
        risk = p.query(dashboard_query("zone", "Route risk per address", **zone))
        assert {(r["metric"]["address"], float(r["value"][1])) for r in risk} == {
            (lab.address(letter), len(GONE) / PEERS) for letter in LETTERS}
        up = p.query(dashboard_query("zone", "Nameserver up per address (UDP)", **zone))
        assert {r["metric"]["address"]: r["value"][1] for r in up}[lab.address("a")] == "0"
        (row,) = p.query(dashboard_query("overview", "Prefixes not visible", group=".*"))
        assert row["metric"] == {"prefix": service, "state": "withdrawn", "group": "default",
                                 "description": "serves a-d.ns.facebook.com"}

        write_updates(tmp_path / "feed" / "0002-announce.mrt", routes(int(time.time()), GONE, [service]))
        lab.servers["a"].start()

        for name in names.values():
            wait_for(lambda n=name: not p.firing(n), DEADLINE, f"{name} to resolve")  # type: ignore[misc]
        assert daemon.value("routewatch_bgp_prefix_state", prefix=service, state="withdrawn") == 0
        assert daemon.value("routewatch_dns_nameserver_up", **a) == 1
        assert daemon.value("routewatch_dns_nameserver_peers_at_risk", **a) == 0
    finally:
        if prometheus is not None:
            prometheus.stop()
        assert daemon.stop() == 0
