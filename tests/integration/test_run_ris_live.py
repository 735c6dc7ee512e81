"""``routewatch run`` with a ris-live source, against the local RIS Live protocol server.

The server runs in a thread of the test process with its own event loop; the
daemon is a real subprocess that connects to it over loopback.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.daemon import Daemon, exporter_port, wait_for
from tests.support.ris_live_server import RisLiveServer

PREFIX = "198.51.100.0/24"


class ServerThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = self.call(RisLiveServer().start())

    def call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    def close(self) -> None:
        self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


@pytest.fixture
def ris() -> Iterator[ServerThread]:
    server = ServerThread()
    yield server
    server.close()


def update(n: int, t: float) -> dict[str, Any]:
    return {"type": "ris_message", "data": {
        "timestamp": t, "peer": f"192.0.2.{n}", "peer_asn": str(64500 + n), "id": f"{n}-{t}", "host": "rrc00",
        "type": "UPDATE", "path": [64500 + n, 32934], "origin": "IGP",
        "announcements": [{"next_hop": f"192.0.2.{n}", "prefixes": [PREFIX]}]}}


def test_the_live_feed_drives_the_core_and_its_health_is_exported(tmp_path: Path, ris: ServerThread) -> None:
    port = exporter_port()
    config = tmp_path / "routewatch.yaml"
    config.write_text(f"""
prefixes:
  - prefix: {PREFIX}
    asn: 32934
sources:
  - type: ris-live
    url: "{ris.server.url}"
    reconcile: none
bgp:
  baseline_min_hold: 1
  bootstrap: {{ripestat: false}}
exporter: {{listen: 127.0.0.1, port: {port}}}
""")
    daemon = Daemon(config, port, tmp_path).start()
    try:
        wait_for(lambda: daemon.value("routewatch_source_up", source="ris-live") == 1, 20, "the feed to connect")
        ris.call(ris.server.wait_subscribed(1))
        for n in range(1, 5):
            ris.call(ris.server.publish(update(n, time.time())))
        wait_for(lambda: daemon.value("routewatch_bgp_prefix_visible_peers", prefix=PREFIX) == 4, 20,
                 "the announcements to reach the core")
        assert daemon.value("routewatch_source_collector_up", source="ris-live", collector="rrc00") == 1
        assert (daemon.value("routewatch_source_messages_total", source="ris-live") or 0) >= 4
        assert daemon.value("routewatch_component_up", component="source:ris-live") == 1
    finally:
        assert daemon.stop() == 0
