"""Every source type admits at most ``limits.max_collectors`` collectors: the rest are counted, their messages ignored.

Through the real MRT follow source (files named for ten collectors) and the
BGPStream source's own loop (elems from ten collectors, pybgpstream replaced
by a list of elems); RIS Live has its own test with a hostile server.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routewatch.config.schema import Config, parse_config
from routewatch.config.to_core import build_engine
from routewatch.core.engine import Engine
from routewatch.daemon.core_sink import CoreDriver
from routewatch.model import FeedState
from routewatch.sources.base import SourceContext
from routewatch.sources.bgpstream import BgpStreamFeed
from routewatch.sources.collector_cap import OVER_CAP, CollectorCap
from routewatch.sources.mrt.feed import MrtFeed
from tests.support.events import announce, collector_state, peer
from tests.support.mrt_writer import Update, write_updates

NOW = 1_700_000_000
PREFIX = "198.51.100.0/24"
ORIGIN = 32934
PEERS = [(f"192.0.2.{n}", 64500 + n) for n in range(1, 4)]
COLLECTORS = [f"rrc{n:02}" for n in range(10)]


def config(source: Mapping[str, Any]) -> Config:
    return parse_config({
        "prefixes": [{"prefix": PREFIX, "asn": ORIGIN}],
        "sources": [dict(source)],
        "limits": {"max_collectors": 2},
        "bgp": {"bootstrap": {"ripestat": False}},
    })


def visible(core: Engine) -> int:
    return next(s.visible_peers for s in core.snapshot().prefixes if str(s.prefix) == PREFIX)


def test_the_cap_admits_the_first_collectors_and_counts_the_rest() -> None:
    cap = CollectorCap(2)
    events = [announce(1.0, peer(n, c), PREFIX, (64500, ORIGIN)) for c in ("a", "b", "c", "a", "d") for n in (1, 2)]
    events.append(collector_state(2.0, "e", FeedState.UP))
    kept = cap.events(events)
    assert [e.peer.collector for e in kept if hasattr(e, "peer")] == ["a", "a", "b", "b", "a", "a"]
    assert cap.ignored[OVER_CAP] == 5  # two of c, two of d, the status of e
    assert cap.admitted == {"a", "b"}
    assert not cap.admit("c", messages=3) and cap.ignored[OVER_CAP] == 8


async def follow_all(feed: MrtFeed, driver: CoreDriver, files: int) -> None:
    """Run the following source until every file is replayed."""
    stop = asyncio.Event()
    task = asyncio.create_task(feed.run(driver, stop))
    for _ in range(2_000):
        if len(feed.done) == files and feed.counters.messages == files * len(PEERS):
            break
        await asyncio.sleep(0.005)
    stop.set()
    await asyncio.wait_for(task, 10)


def test_a_followed_directory_naming_ten_collectors_tracks_two(tmp_path: Path) -> None:
    for collector in COLLECTORS:
        path = write_updates(tmp_path / f"{collector}.updates.20231114.2205",
                             [Update(NOW - 600, ip, asn, [PREFIX], [asn, ORIGIN]) for ip, asn in PEERS])
        os.utime(path, (NOW - 60, NOW - 60))  # written a minute ago: complete
    settings = config({"type": "mrt", "files": [str(tmp_path / "rrc*.updates.*")], "follow": True,
                       "poll_interval": 0.01})
    core = build_engine(settings)
    feed = MrtFeed(settings.sources[0], SourceContext(settings, clock=lambda: float(NOW)))
    asyncio.run(follow_all(feed, CoreDriver(core), len(COLLECTORS)))
    health = feed.health()
    assert [c.collector for c in health.collectors] == ["rrc00", "rrc01"]
    assert health.ignored[OVER_CAP] == 8 * len(PEERS)
    assert core.sessions.known_collectors == {"rrc00", "rrc01"}
    assert visible(core) == 2 * len(PEERS)


@dataclass
class CollectorElem:
    """Shaped like pybgpstream's BGPElem, with the collector that recorded it."""

    type: str
    time: float
    peer_address: str
    peer_asn: int
    collector: str
    fields: Mapping[str, Any] = field(default_factory=dict)


def test_a_bgpstream_naming_ten_collectors_tracks_two() -> None:
    settings = config({"type": "bgpstream", "project": "routeviews", "from_time": NOW - 3_600,
                       "until_time": NOW})
    elems = [CollectorElem("A", NOW - 600, ip, asn, collector,
                           {"prefix": PREFIX, "as-path": f"{asn} {ORIGIN}", "next-hop": ip})
             for collector in COLLECTORS for ip, asn in PEERS]

    def stream(**_options: Any) -> Iterator[CollectorElem]:
        return iter(elems)

    feed = BgpStreamFeed(settings.sources[0], SourceContext(settings, clock=lambda: float(NOW)),
                         stream_factory=stream)
    core = build_engine(settings)
    asyncio.run(feed.run(CoreDriver(core), asyncio.Event()))
    health = feed.health()
    assert [c.collector for c in health.collectors] == ["rrc00", "rrc01"]
    assert health.ignored[OVER_CAP] == 8 * len(PEERS)
    assert health.messages == len(elems)
    assert core.sessions.known_collectors == {"rrc00", "rrc01"}
    assert visible(core) == 2 * len(PEERS)
