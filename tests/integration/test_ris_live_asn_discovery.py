"""A watched ASN: its path subscription only discovers prefixes; each then gets its own subscription.

A withdrawal carries no AS path, so only the prefix subscription can deliver it.
"""

from __future__ import annotations

from routewatch.config.to_core import build_engine
from routewatch.model import parse_prefix
from tests.integration.test_ris_live_replay import COLLECTOR, FILE
from tests.support.bgpdump import bgpdump_lines
from tests.support.live_harness import live_config, ris_server, running_live, wait_until
from tests.support.ris_live_server import mrt_path, ris_messages_from_bgpdump
from tests.support.tools import require_data

ASN = 9808
PREFIX = parse_prefix("111.11.133.0/24")  # originated by AS9808, then withdrawn by every peer
FIRST_WITHDRAWAL = 1279829928.0


async def test_discovered_prefix_is_subscribed_and_its_withdrawals_arrive() -> None:
    messages = ris_messages_from_bgpdump(bgpdump_lines(require_data(mrt_path(FILE))), COLLECTOR)
    async with ris_server() as server:
        config = live_config(server.url, [], asns=[{"asn": ASN, "max_prefixes": 50}])
        monitor = build_engine(config, bootstrapped=False)
        async with running_live(config, monitor) as run:
            await server.wait_subscribed(run.live.client.subscription_count)
            await server.replay([m for m in messages if m["data"]["timestamp"] < FIRST_WITHDRAWAL])
            await wait_until(lambda: any(str(PREFIX) == f.raw.get("prefix") for c in server.clients
                                         for f in c.filters), "the discovered prefix subscribed")
            await server.replay([m for m in messages if m["data"]["timestamp"] >= FIRST_WITHDRAWAL])
            sent = server.frames
            await wait_until(lambda: run.messages >= sent, "everything applied")
            health = run.live.details()

    watched = monitor.watch.get(PREFIX)
    assert watched is not None and watched.source == f"asn:{ASN}"
    assert list(monitor.table.routes(PREFIX)) == []  # the withdrawals (no AS path) arrived
    assert health.subscriptions == 3 + len(monitor.watch)  # keepalive, peer state, path + one per prefix
    assert health.unacknowledged == 0
