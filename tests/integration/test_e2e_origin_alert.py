"""End to end: a sub-prefix hijack through routewatch and a real Prometheus, named in the page.

Ten collector peers carry 127.64.0.0/16 from AS32934 (MRT files, as in
``test_e2e_prometheus.py``); then four of them announce 127.64.1.0/24
originated by AS64511. routewatch opens an origin detection; its offender is
exported as ``routewatch_bgp_detection_peers``/``..._info``; Prometheus,
running ``deploy/prometheus/routewatch-rules.yml`` (made fast the same way),
fires ``RoutewatchPrefixOriginAnomaly`` with the prefix's ``group`` and
``description`` as labels and a summary that names the AS and the
sub-prefix, and an ``api_url`` that, its base pointed at this daemon, answers
with the open detection. The overview dashboard's offenders table and detection
annotation, asked of the same Prometheus, show the offender. Withdrawing the
hijack resolves it.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from routewatch.alerting.render import DEFAULT_API_BASE
from tests.integration.test_e2e_prometheus import DEADLINE, Prometheus, dashboard_query, fast_rules
from tests.support.daemon import Daemon, exporter_port, wait_for
from tests.support.mrt_writer import Update, write_updates
from tests.support.tools import require_tool

pytestmark = pytest.mark.integration

ORIGIN = 32934
HIJACKER = 64511
WATCHED = "127.64.0.0/16"
SUBPREFIX = "127.64.1.0/24"
HIJACKING_PEERS = range(1, 5)
GROUP = {"group": "netops-emea"}


def _config(port: int) -> str:
    return f"""
prefixes:
  - prefix: {WATCHED}
    asn: {ORIGIN}
    description: edge anycast
    group: netops-emea
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
exporter: {{listen: 127.0.0.1, port: {port}}}
"""


@pytest.mark.timeout(120)
def test_an_origin_page_names_the_as_and_the_sub_prefix_and_carries_the_group(tmp_path: Path) -> None:
    require_tool("prometheus")
    fast_rules(tmp_path / "rules.yml")
    (tmp_path / "feed").mkdir()
    now = int(time.time())
    write_updates(tmp_path / "rrc00.rib.mrt", [Update(now - 5, f"192.0.2.{n}", 64500 + n, [WATCHED],
                                                      [64500 + n, 3356, ORIGIN]) for n in range(1, 11)])
    port = exporter_port()
    (tmp_path / "routewatch.yaml").write_text(_config(port))
    daemon = Daemon(tmp_path / "routewatch.yaml", port, tmp_path).start()
    prometheus: Prometheus | None = None
    try:
        prometheus = Prometheus(tmp_path, port, tmp_path / "rules.yml")
        p = prometheus
        wait_for(lambda: daemon.value("routewatch_bgp_prefix_visible_peers", prefix=WATCHED) == 10, DEADLINE,
                 "the watched prefix to be seen")
        alert = "RoutewatchPrefixOriginAnomaly"
        assert not p.firing(alert)

        write_updates(tmp_path / "feed" / "0001-hijack.mrt",
                      [Update(int(time.time()), f"192.0.2.{n}", 64500 + n, [SUBPREFIX], [64500 + n, 174, HIJACKER])
                       for n in HIJACKING_PEERS])
        firing = wait_for(lambda: p.firing(alert), DEADLINE, "the origin alert")
        assert len(firing) == 1
        labels, annotations = firing[0]["labels"], firing[0]["annotations"]
        assert {k: labels[k] for k in ("prefix", "subprefix", "asn", "group", "description", "severity")} == {
            "prefix": WATCHED, "subprefix": SUBPREFIX, "asn": str(HIJACKER), "group": "netops-emea",
            "description": "edge anycast", "severity": "critical"}
        assert annotations["summary"] == f"{SUBPREFIX} originated by AS{HIJACKER}, {len(HIJACKING_PEERS)} peers"
        assert f"AS{HIJACKER}" in annotations["description"]
        api_url = annotations["api_url"]
        assert api_url == f"{DEFAULT_API_BASE}/api/v1/prefixes/{WATCHED}"
        answer = httpx.get(api_url.replace(DEFAULT_API_BASE, f"http://127.0.0.1:{port}"), timeout=10).json()
        assert answer["prefix"] == WATCHED and answer["group"] == "netops-emea"
        assert [(d["kind"], d["asns"]) for d in answer["open_detections"]] == [("origin", [HIJACKER])]
        offender = {"prefix": WATCHED, "kind": "origin", "asn": str(HIJACKER), "subprefix": SUBPREFIX,
                    "group": "netops-emea"}
        (row,) = p.query(dashboard_query("overview", "Open origin and more-specific detections: offenders", **GROUP))
        assert row["metric"] == offender and row["value"][1] == str(len(HIJACKING_PEERS))
        (marker,) = p.query(dashboard_query("overview", "Origin and more-specific detections", **GROUP))
        assert marker["metric"] == offender

        write_updates(tmp_path / "feed" / "0002-gone.mrt",
                      [Update(int(time.time()), f"192.0.2.{n}", 64500 + n, withdrawn=[SUBPREFIX])
                       for n in HIJACKING_PEERS])
        wait_for(lambda: not p.firing(alert), DEADLINE, "the origin alert to resolve")
        assert daemon.value("routewatch_bgp_detection_peers", prefix=WATCHED, kind="origin", asn=str(HIJACKER),
                            subprefix=SUBPREFIX) is None
    finally:
        if prometheus is not None:
            prometheus.stop()
        assert daemon.stop() == 0
