"""A feed naming thousands of collectors: only ``limits.max_collectors`` are tracked, the rest counted and ignored."""

from __future__ import annotations

import json

from routewatch.config.to_core import build_engine
from routewatch.sources.collector_cap import OVER_CAP
from routewatch.sources.ris_live.frame import FrameKind
from routewatch.sources.ris_live.parse import RisParser
from tests.support.live_harness import live_config, ris_server, running_live, wait_until


def keepalive(host: str, t: float = 1_600_000_000.0) -> str:
    return json.dumps({"type": "ris_message", "data": {"timestamp": t, "peer": "192.0.2.1", "peer_asn": "64501",
                                                       "id": "k", "host": host, "type": "KEEPALIVE"}})


def test_collectors_beyond_the_cap_are_ignored_and_counted() -> None:
    parser = RisParser(max_collectors=5)
    frames = [parser.decode(keepalive(f"rrc{n:04}")) for n in range(2_000)]
    assert {f.collector for f in frames if f.collector is not None} == {f"rrc{n:04}" for n in range(5)}
    assert parser.tally.ignored[OVER_CAP] == 1_995
    assert all(f.kind is FrameKind.IGNORED for f in frames[5:])
    assert parser.decode(keepalive("rrc0001")).kind is FrameKind.KEEPALIVE  # an admitted one still counts


async def test_a_feed_inventing_collector_names_tracks_at_most_the_cap() -> None:
    async with ris_server() as server:
        config = live_config(server.url, [{"prefix": "198.51.100.0/24", "asn": 32934}],
                             limits={"max_collectors": 8})
        monitor = build_engine(config, bootstrapped=False)
        async with running_live(config, monitor) as run:
            await server.wait_subscribed(run.live.client.subscription_count)
            for n in range(2_000):
                await server.send_raw(keepalive(f"fake{n}"))
            sent = server.frames
            await wait_until(lambda: run.live.client.stats.received >= sent, "every message read")
            await wait_until(lambda: run.live.health().messages >= 2_000, "every message applied")
            health = run.live.health()
    assert len(health.collectors) == 8
    assert health.ignored[OVER_CAP] == 1_992
