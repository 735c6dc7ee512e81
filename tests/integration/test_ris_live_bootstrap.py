"""Bootstrap from a real RIB dump, with live messages buffered from the moment of connecting."""

from __future__ import annotations

from routewatch.config.to_core import build_engine
from routewatch.core.visibility import PrefixState
from routewatch.model import parse_prefix
from tests.support.live_harness import live_config, ris_server, running_live, wait_until
from tests.support.ris_live_server import mrt_path
from tests.support.tools import require_data

RIB = "bview.20020722.2337.gz"  # RIS, 2002-07-22 23:37, TABLE_DUMP
PREFIX = "80.81.128.0/20"  # held by five peers in that dump
ORIGIN = 21303  # its origin there (bgpdump -m)
MORE_SPECIFIC = "80.81.130.0/24"


async def test_rib_bootstrap_then_buffered_live_messages() -> None:
    rib = str(require_data(mrt_path(RIB)))
    async with ris_server() as server:
        config = live_config(server.url, [{"prefix": PREFIX, "asn": ORIGIN}],
                             bgp={"bootstrap": {"mrt_files": [rib], "ripestat": False}})
        monitor = build_engine(config, bootstrapped=False)
        async with running_live(config, monitor) as run:
            await server.wait_subscribed(run.live.client.subscription_count)
            # Sent while the RIB may still be loading: it must wait in the queue, not be lost.
            await server.publish({"type": "ris_message", "data": {
                "timestamp": 1027382000.0, "peer": "193.203.0.1", "peer_asn": "1853", "host": "rrc00",
                "type": "UPDATE", "path": [1853, ORIGIN], "origin": "igp", "community": [],
                "announcements": [{"next_hop": "193.203.0.1", "prefixes": [MORE_SPECIFIC]}]}})
            await wait_until(lambda: monitor.table.route_count() == 6, "the RIB and the live message applied")
            health = run.live.details()

    status = monitor.snapshot().status(parse_prefix(PREFIX))
    assert status is not None
    assert (status.state, status.visible_peers, status.baseline_peers) == (PrefixState.VISIBLE, 5, 5)
    assert health.bootstrapped and health.dropped == 0
    assert {r.peer.collector for r in monitor.table.routes(parse_prefix(MORE_SPECIFIC))} == {"rrc00"}
