"""``routewatch run`` fed timestamps from wrong clocks by a RIS Live server: withdrawal detection keeps working.

A KEEPALIVE dated ten years ahead used to move the core's data time for good
(hold-downs never ended, an 80% withdrawal stayed ``visible``); a timestamp
above 2^53 made data time 1e26 and broke the detection log.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_run_ris_live import ServerThread, update
from tests.support.daemon import Daemon, exporter_port, wait_for

PREFIX = "198.51.100.0/24"
TEN_YEARS = 10 * 365 * 86_400


@pytest.fixture
def ris() -> Iterator[ServerThread]:
    server = ServerThread()
    yield server
    server.close()


def keepalive(t: float) -> dict[str, Any]:
    return {"type": "ris_message", "data": {"timestamp": t, "peer": "192.0.2.1", "peer_asn": "64501", "id": "k",
                                            "host": "rrc00", "type": "KEEPALIVE"}}


def withdrawal(n: int, t: float) -> dict[str, Any]:
    return {"type": "ris_message", "data": {
        "timestamp": t, "peer": f"192.0.2.{n}", "peer_asn": str(64500 + n), "id": f"w{n}", "host": "rrc00",
        "type": "UPDATE", "withdrawals": [PREFIX]}}


def test_a_keepalive_from_the_future_and_a_timestamp_beyond_2_53_do_not_blind_withdrawal_detection(
        tmp_path: Path, ris: ServerThread) -> None:
    port = exporter_port()
    config = tmp_path / "routewatch.yaml"
    config.write_text(f"""
prefixes:
  - prefix: {PREFIX}
    asn: 32934
    thresholds: {{hold_down: 1, min_baseline_peers: 3}}
sources:
  - type: ris-live
    url: "{ris.server.url}"
    reconcile: none
bgp:
  baseline_min_hold: 1
  bootstrap: {{ripestat: false}}
exporter: {{listen: 127.0.0.1, port: {port}}}
state: {{path: state.json, save_interval: 3600}}
logging: {{detection_log: detections.jsonl}}
""")
    daemon = Daemon(config, port, tmp_path).start()
    try:
        ris.call(ris.server.wait_subscribed(1))

        def held_long_enough() -> bool:
            """Announce again until the holders have held the route for baseline_min_hold (data time)."""
            for n in range(1, 11):
                ris.call(ris.server.publish(update(n, time.time())))
            return daemon.value("routewatch_bgp_prefix_baseline_peers", prefix=PREFIX) == 10

        wait_for(held_long_enough, 20, "the baseline", interval=0.5)
        ris.call(ris.server.publish(keepalive(time.time() + TEN_YEARS)))
        ris.call(ris.server.send_raw(json.dumps(keepalive(float(2**60)))))
        ris.call(ris.server.send_raw(json.dumps(withdrawal(10, 2**60))))
        for n in range(1, 9):
            ris.call(ris.server.publish(withdrawal(n, time.time())))
        wait_for(lambda: daemon.value("routewatch_bgp_prefix_state", prefix=PREFIX, state="withdrawn") == 1, 20,
                 "the withdrawal to open")
        assert daemon.value("routewatch_bgp_prefix_visible_peers", prefix=PREFIX) == 2
        assert (daemon.value("routewatch_source_messages_malformed_total", source="ris-live") or 0) >= 3
    finally:
        assert daemon.stop() == 0
    opened = [json.loads(line) for line in (tmp_path / "detections.jsonl").read_text().splitlines()]
    assert [(d["event"], d["kind"]) for d in opened] == [("opened", "withdrawal")]
    assert opened[0]["time"] < time.time() + 60  # judged at the wall clock, not ten years ahead
    assert json.loads((tmp_path / "state.json").read_text())["now"] < time.time() + 60
