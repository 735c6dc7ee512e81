"""A watched AS with declared downstreams: RIS Live sends every path through it, and a leak is seen from that alone.

The customer's prefix is watched by nobody; only the ``path: "<asn>"``
subscription brings its leaked route (the test server filters as RIS Live
does, so a route not through the watched AS never arrives). The leak opens a
``neighbor`` detection naming the undeclared customer; the prefix then gets a
subscription of its own, so its withdrawals (which carry no path) arrive and
close it.
"""

from __future__ import annotations

from typing import Any

import pytest

from routewatch.config.to_core import build_engine
from routewatch.core.detection import ChangeKind, DetectionKind
from routewatch.model import parse_prefix
from tests.support.live_harness import FakeClock, live_config, ris_server, running_live, wait_until

pytestmark = pytest.mark.integration

CARRIER = 65000
CUSTOMER = 64501
LEAKER = 65010
LEAKED = "203.0.113.0/24"
NOW = 1_700_000_000.0


def update(peer: int, path: list[int], *, announce: str | None = None, withdraw: str | None = None,
           t: float = NOW) -> dict[str, Any]:
    data: dict[str, Any] = {"timestamp": t, "peer": f"192.0.2.{peer}", "peer_asn": str(64600 + peer),
                            "id": f"{peer}-{t}-{announce or withdraw}", "host": "rrc00", "type": "UPDATE",
                            "path": path}
    if announce is not None:
        data |= {"origin": "IGP", "announcements": [{"next_hop": f"192.0.2.{peer}", "prefixes": [announce]}]}
    if withdraw is not None:
        data["withdrawals"] = [withdraw]
    return {"type": "ris_message", "data": data}


def subscribed(server: Any, key: str) -> set[str]:
    return {str(f.raw[key]) for c in server.clients for f in c.filters if key in f.raw}


async def test_a_leak_seen_only_through_the_path_subscription_opens_a_neighbor_detection() -> None:
    async with ris_server() as server:
        config = live_config(server.url, [], asns=[{"asn": CARRIER, "downstreams": [CUSTOMER]}])
        monitor = build_engine(config, bootstrapped=False)
        async with running_live(config, monitor, clock=FakeClock(NOW)) as run:
            await server.wait_subscribed(run.live.client.subscription_count)
            assert subscribed(server, "path") == {f"{CARRIER}$", str(CARRIER)}
            assert subscribed(server, "prefix") == set()
            assert run.live.details().path_subscriptions == 1

            # Not through the carrier: RIS Live does not send it at all.
            assert await server.publish(update(1, [64600, 3356, 64999], announce="198.18.0.0/15")) == 0
            # Through the carrier and a declared customer: delivered, and nothing to say.
            for peer in range(1, 4):
                assert await server.publish(update(peer, [64600 + peer, CARRIER, CUSTOMER],
                                                   announce="198.51.100.0/24")) == 1
            # The customer's route leaked through an AS the carrier did not declare.
            for peer in range(1, 4):
                assert await server.publish(update(peer, [64600 + peer, CARRIER, LEAKER, CUSTOMER],
                                                   announce=LEAKED, t=NOW + 1)) == 1
            await wait_until(lambda: any(c.detection.kind is DetectionKind.NEIGHBOR for c in run.changes),
                             "the neighbor detection")
            await wait_until(lambda: LEAKED in subscribed(server, "prefix"), "the leaked prefix subscribed")

            # Withdrawals carry no path: they arrive through the leaked prefix's own subscription.
            for peer in range(1, 4):
                assert await server.publish(update(peer, [], withdraw=LEAKED, t=NOW + 2)) == 1
            await wait_until(lambda: any(c.change is ChangeKind.CLOSED for c in run.changes), "the detection closed")
            health = run.live.details()

    opened = [c.detection for c in run.changes if c.change is ChangeKind.OPENED]
    assert [(d.kind, str(d.prefix)) for d in opened] == [(DetectionKind.NEIGHBOR, LEAKED)]
    assert opened[0].evidence["neighbors"] == [LEAKER]
    assert monitor.watch.get(parse_prefix("198.51.100.0/24")) is None  # a declared customer's route: not watched
    watched = monitor.watch.get(parse_prefix(LEAKED))
    assert watched is not None and watched.source == f"path:{CARRIER}"
    assert health.path_subscriptions == 1 and health.unacknowledged == 0
