"""``run --shards 2`` on RIS Live: each worker subscribes to its own part, and RIS Live's filtering divides the feed.

The local RIS Live server of the tests runs in a thread of the test process
(see test_run_ris_live); the parent and its two workers are real processes.
Each worker must ask for exactly the prefixes of its shard, so that every
update reaches exactly one of them, and show at its own port the routes of its
own prefixes only.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from routewatch.config.schema import load_config
from tests.integration.test_run_ris_live import ServerThread
from tests.integration.test_shards import PREFIXES, consecutive_ports, scrape, start, stop, watched
from tests.support.daemon import wait_for

pytestmark = pytest.mark.integration

SHARDS = 2
ORIGIN = 64511
DEADLINE = 40.0


@pytest.fixture
def ris() -> Iterator[ServerThread]:
    server = ServerThread()
    yield server
    server.close()


def subscribed_prefixes(ris: ServerThread) -> list[frozenset[str]]:
    """Each connected client's prefix subscriptions (a snapshot taken from the test's thread)."""
    return sorted((frozenset(str(f.raw["prefix"]) for f in list(client.filters) if "prefix" in f.raw)
                   for client in list(ris.server.clients)), key=sorted)


def announcement(prefix: str, t: float) -> dict[str, Any]:
    return {"type": "ris_message", "data": {
        "timestamp": t, "peer": "192.0.2.1", "peer_asn": "64501", "id": f"{prefix}-{t}", "host": "rrc00",
        "type": "UPDATE", "path": [64501, 3356, ORIGIN], "origin": "IGP",
        "announcements": [{"next_hop": "192.0.2.1", "prefixes": [prefix]}]}}


def visible(port: int, prefix: str) -> float | None:
    samples = scrape(port) or {}
    return samples.get(("routewatch_bgp_prefix_visible_peers", (("prefix", prefix),)))


@pytest.mark.timeout(120)
def test_each_local_shard_subscribes_to_its_part_and_receives_only_its_prefixes(tmp_path: Path,
                                                                                  ris: ServerThread) -> None:
    base = consecutive_ports(SHARDS)
    config = tmp_path / "routewatch.yaml"
    prefixes = "\n".join(f"  - {{prefix: {p}, asn: {ORIGIN}}}" for p in PREFIXES)
    config.write_text(f"""
prefixes:
{prefixes}
sources:
  - {{type: ris-live, url: "{ris.server.url}", reconcile: none}}
bgp:
  baseline_min_hold: 1
  bootstrap: {{ripestat: false}}
sharding: {{shards: {SHARDS}}}
exporter: {{listen: 127.0.0.1, port: {base}}}
""")
    expected = [{str(w.prefix) for w in load_config(config).part(i).prefixes} for i in range(SHARDS)]
    assert all(expected) and set().union(*expected) == set(PREFIXES) and sum(map(len, expected)) == len(PREFIXES)
    parent = start(tmp_path, "run", "-c", str(config), "--shards", str(SHARDS))
    try:
        wait_for(lambda: subscribed_prefixes(ris) == sorted(map(frozenset, expected), key=sorted), DEADLINE,
                 "each worker to subscribe to its own part")
        now = time.time()
        delivered = [ris.call(ris.server.publish(announcement(prefix, now))) for prefix in PREFIXES]
        assert delivered == [1] * len(PREFIXES)  # each update reaches one worker: the one that asked for it
        for shard, own in enumerate(expected):
            port = base + shard
            wait_for(lambda port=port, own=own: all(visible(port, p) == 1 for p in own), DEADLINE,
                     f"shard {shard} to see its prefixes announced")
            assert watched(scrape(port) or {}) == own
    finally:
        assert stop(parent) == 0
