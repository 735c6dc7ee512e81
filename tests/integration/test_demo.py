"""``routewatch demo`` end to end: the real command, a real Prometheus with the shipped rules.

The demo runs fast (600x: the story's five hours of outage take about thirty
seconds) and Prometheus evaluates the shipped rules in their test variant
(every ``for:`` 1s; the expressions untouched, see test_e2e_prometheus). The
withdrawal alert must fire for each of the six DNS prefixes, never for the
covering aggregate, and resolve when the story's prefixes come back.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from routewatch.demo.incident import AGGREGATE, DNS_PREFIXES
from tests.integration.test_e2e_prometheus import Prometheus, fast_rules
from tests.support.daemon import exporter_port, wait_for

pytestmark = pytest.mark.integration

SPEED = 600
DEADLINE = 90.0
"""Upper bound for the whole story to be told at SPEED; it takes about forty seconds."""


@pytest.mark.timeout(180)
def test_demo_withdrawal_alert_fires_for_the_dns_prefixes_only_and_resolves(tmp_path: Path) -> None:
    names = fast_rules(tmp_path / "rules.yml")
    port = exporter_port()
    log = (tmp_path / "demo.log").open("wb")
    demo = subprocess.Popen([str(Path(sys.executable).parent / "routewatch"), "demo", "--speed", str(SPEED),
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    prometheus: Prometheus | None = None
    try:
        prometheus = Prometheus(tmp_path, port, tmp_path / "rules.yml")
        p = prometheus
        fired: set[str] = set()

        def withdrawn_then_back() -> bool:
            firing = p.firing(names["withdrawal"])
            fired.update(alert["labels"]["prefix"] for alert in firing)
            return fired == set(DNS_PREFIXES) and not firing

        wait_for(withdrawn_then_back, DEADLINE, "the withdrawal alert to fire for the DNS prefixes and resolve", 0.5)
        assert AGGREGATE not in fired
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
