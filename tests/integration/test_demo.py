"""``routewatch demo`` end to end: the real command, a real Prometheus with the shipped rules.

The demo runs fast (600x: the story's five hours of outage take about thirty
seconds) and Prometheus evaluates the shipped rules in their test variant
(every ``for:`` 1s; the expressions untouched, see test_e2e_prometheus). The
withdrawal alert must fire for each of the six DNS prefixes, never for the
covering aggregate, and resolve when the story's prefixes come back. The demo
serves facebook.com with its own Knot: the nameserver-down and DNS-at-risk
alerts must fire for each of the four nameserver addresses and resolve too.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from routewatch.demo.dns import NAMESERVERS, STAND_IN_SERVICE
from routewatch.demo.incident import AGGREGATE, DNS_PREFIXES
from tests.integration.test_e2e_prometheus import Prometheus, fast_rules
from tests.support.daemon import exporter_port, wait_for
from tests.support.tools import require_tool

pytestmark = pytest.mark.integration

SPEED = 600
DEADLINE = 90.0
"""Upper bound for the whole story to be told at SPEED; it takes about forty seconds."""


@pytest.mark.timeout(180)
def test_demo_alerts_fire_for_the_dns_prefixes_and_nameservers_only_and_resolve(tmp_path: Path) -> None:
    require_tool("knotd")  # the demo's own DNS server: Knot first, NSD otherwise
    names = fast_rules(tmp_path / "rules.yml")
    addresses = set(NAMESERVERS.values())
    port = exporter_port()
    log = (tmp_path / "demo.log").open("wb")
    demo = subprocess.Popen([str(Path(sys.executable).parent / "routewatch"), "demo", "--speed", str(SPEED),
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    prometheus: Prometheus | None = None
    try:
        prometheus = Prometheus(tmp_path, port, tmp_path / "rules.yml")
        p = prometheus
        expected = {"withdrawal": ({*DNS_PREFIXES, STAND_IN_SERVICE}, "prefix"),
                    "nameserver down": (addresses, "address"), "dns at risk": (addresses, "address")}
        fired: dict[str, set[str]] = {signal_: set() for signal_ in expected}

        def gone_then_back() -> bool:
            done = True
            for signal_, (wanted, label) in expected.items():
                firing = p.firing(names[signal_])
                fired[signal_].update(alert["labels"][label] for alert in firing)
                done = done and fired[signal_] >= wanted and not firing
            return done

        wait_for(gone_then_back, DEADLINE, "the withdrawal, nameserver-down and DNS-at-risk alerts to fire and resolve",
                 0.5)
        assert fired == {signal_: wanted for signal_, (wanted, _) in expected.items()}
        state = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert f'routewatch_bgp_prefix_state{{prefix="{AGGREGATE}",state="visible"}} 1.0' in state
    finally:
        if prometheus is not None:
            prometheus.stop()
        demo.send_signal(signal.SIGTERM)
        try:
            assert demo.wait(timeout=20) == 0
        finally:
            log.close()
    text = (tmp_path / "demo.log").read_text()
    assert "OPENED withdrawal    129.134.30.0/23" in text and "CLOSED withdrawal    129.134.30.0/23" in text
    assert "DNS: Knot serves facebook.com" in text
