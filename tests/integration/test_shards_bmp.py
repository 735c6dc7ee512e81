"""``run --shards 2`` with a BMP station: each local shard's station listens on ``port + I``.

A router gives every station it is configured with its whole stream, so each
shard reads every route and keeps its own part. On one machine the stations
cannot share a port: shard I listens on the configured port plus I, as its
exporter does. The router here is the tests' own BMP writer
(tests/support/bmp_writer.py), connected to both stations like a router with
two ``bmp`` targets.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from routewatch.config.schema import load_config
from tests.integration.test_shards import PREFIXES, consecutive_ports, scrape, start, stop, watched
from tests.support.bmp_writer import end_of_rib, initiation, peer_up, route_monitoring
from tests.support.daemon import wait_for
from tests.support.mrt_writer import Update

pytestmark = pytest.mark.integration

SHARDS = 2
PEERS = 3
ORIGIN = 64511
DEADLINE = 40.0


def stream(now: float) -> bytes:
    """One router's whole stream: its peers up, each announcing every prefix, then their End-of-RIBs."""
    peers = [(f"192.0.2.{n}", 64500 + n) for n in range(1, PEERS + 1)]
    messages = [initiation("edge-1")]
    messages += [peer_up(address, asn, time=now) for address, asn in peers]
    messages += [route_monitoring(Update(int(now), address, asn, PREFIXES, [asn, 3356, ORIGIN]), time=now)
                 for address, asn in peers]
    messages += [end_of_rib(address, asn, time=now) for address, asn in peers]
    return b"".join(messages)


def connect(port: int) -> socket.socket:
    """The router's connection to one station (retried while the worker starts)."""
    def attempt() -> socket.socket | None:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=2)
        except OSError:
            return None
    return wait_for(attempt, DEADLINE, f"the station on port {port}")


def visible(port: int, prefix: str) -> float | None:
    return (scrape(port) or {}).get(("routewatch_bgp_prefix_visible_peers", (("prefix", prefix),)))


@pytest.mark.timeout(120)
def test_each_local_shard_has_its_own_station_port_and_keeps_only_its_part(tmp_path: Path) -> None:
    exporter, station = consecutive_ports(SHARDS), consecutive_ports(SHARDS)
    config = tmp_path / "routewatch.yaml"
    prefixes = "\n".join(f"  - {{prefix: {p}, asn: {ORIGIN}}}" for p in PREFIXES)
    config.write_text(f"""
prefixes:
{prefixes}
sources:
  - {{type: bmp, name: routers, listen: 127.0.0.1, port: {station}, routers: [127.0.0.1/32]}}
bgp:
  baseline_min_hold: 1
  bootstrap: {{ripestat: false}}
sharding: {{shards: {SHARDS}}}
exporter: {{listen: 127.0.0.1, port: {exporter}}}
""")
    expected = [{str(w.prefix) for w in load_config(config).part(i).prefixes} for i in range(SHARDS)]
    assert all(expected) and sum(map(len, expected)) == len(PREFIXES)
    parent = start(tmp_path, "run", "-c", str(config), "--shards", str(SHARDS))
    routers: list[socket.socket] = []
    try:
        data = stream(time.time())
        for shard in range(SHARDS):
            router = connect(station + shard)
            router.sendall(data)
            routers.append(router)
        for shard, own in enumerate(expected):
            port = exporter + shard
            wait_for(lambda port=port, own=own: all(visible(port, p) == PEERS for p in own), DEADLINE,
                     f"shard {shard} to see its prefixes from every peer of the router")
            assert watched(scrape(port) or {}) == own
    finally:
        for router in routers:
            router.close()
        assert stop(parent) == 0
