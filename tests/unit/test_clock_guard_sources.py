"""A record stamped years ahead cannot blind a followed MRT directory or a live BGPStream.

Each source runs for real into a real core: ten peers announce, one record is
stamped ten years ahead, eight peers withdraw, and then the wall clock moves
on past the hold-down (as the daemon moves a live core's clock). Taken at its
word, the future record would have moved the core's clock ten years ahead and
the withdrawal's hold-down would never end (the unguarded control shows it);
judged at the wall clock it opens as it should.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routewatch.config.schema import Config, parse_config
from routewatch.config.to_core import build_engine
from routewatch.core.engine import Engine
from routewatch.core.visibility import PrefixState
from routewatch.daemon.core_sink import CoreDriver
from routewatch.model import parse_prefix
from routewatch.sources.base import SourceContext
from routewatch.sources.bgpstream import BgpStreamFeed
from routewatch.sources.clock_guard import ClockGuard
from routewatch.sources.mrt.feed import MrtFeed
from tests.support.mrt_writer import Update, write_updates

NOW = 1_700_000_000
PREFIX = "198.51.100.0/24"
OTHER = "203.0.113.0/24"
ORIGIN = 32934
TEN_YEARS = 10 * 365 * 86_400
PEERS = [(f"192.0.2.{n}", 64500 + n) for n in range(1, 11)]


def story() -> list[Update]:
    """Announced by ten peers at NOW-600, a record at NOW+10y, eight withdrawals at NOW-300, quiet data after."""
    updates = [Update(NOW - 600, ip, asn, [PREFIX], [asn, ORIGIN]) for ip, asn in PEERS]
    ip, asn = PEERS[-1]
    updates.append(Update(NOW + TEN_YEARS, ip, asn, [OTHER], [asn, 65010]))
    updates += [Update(NOW - 300, ip, asn, withdrawn=[PREFIX]) for ip, asn in PEERS[:8]]
    updates += [Update(NOW - 300 + 10 * n, ip, asn, [OTHER], [asn, 65010]) for n in range(1, 10)]
    return updates


def config(source: Mapping[str, Any]) -> Config:
    return parse_config({
        "prefixes": [{"prefix": PREFIX, "asn": ORIGIN, "thresholds": {"hold_down": 30, "min_baseline_peers": 3}}],
        "sources": [dict(source)],
        "bgp": {"baseline_min_hold": 60, "bootstrap": {"ripestat": False}},
    })


def state_a_minute_later(core: Engine) -> PrefixState:
    """The prefix once the wall clock has moved a minute on (the daemon advances a live core to it)."""
    core.advance(NOW + 60)
    return core.snapshot().status(parse_prefix(PREFIX)).state


def test_the_guard_judges_only_beyond_the_tolerance_and_only_once_it_knows_the_wall_clock() -> None:
    guard = ClockGuard(tolerance=60.0)
    assert guard.judge(NOW + TEN_YEARS) == NOW + TEN_YEARS and guard.skewed == 0  # no wall clock yet: a replay
    guard.at_wall_clock(NOW)
    assert (guard.judge(NOW + 60), guard.judge(NOW + 61), guard.skewed) == (NOW + 60, NOW, 1)


async def follow_once(feed: MrtFeed, driver: CoreDriver) -> None:
    """Run the following source until its one file is replayed."""
    stop = asyncio.Event()
    task = asyncio.create_task(feed.run(driver, stop))
    for _ in range(2_000):
        if feed.done and feed.counters.messages:
            break
        await asyncio.sleep(0.005)
    stop.set()
    await asyncio.wait_for(task, 10)


def replay_mrt(tmp_path: Path, *, follow: bool) -> tuple[MrtFeed, Engine]:
    path = write_updates(tmp_path / "rrc00.updates.20231114.2205", story())
    os.utime(path, (NOW - 60, NOW - 60))  # written a minute ago: complete
    settings = config({"type": "mrt", "files": [str(tmp_path / "rrc00.updates.*")], "follow": follow,
                       "poll_interval": 0.01})
    core = build_engine(settings)
    feed = MrtFeed(settings.sources[0], SourceContext(settings, clock=lambda: float(NOW)))
    asyncio.run(follow_once(feed, CoreDriver(core)))
    return feed, core


def test_a_followed_mrt_record_from_the_future_is_judged_at_the_wall_clock(tmp_path: Path) -> None:
    feed, core = replay_mrt(tmp_path, follow=True)
    assert feed.guard.skewed == 1 and feed.counters.malformed == 1
    assert core.now <= NOW
    assert state_a_minute_later(core) is PrefixState.WITHDRAWN


def test_unguarded_the_same_record_blinds_withdrawal_detection(tmp_path: Path) -> None:
    """The control: files replayed once (not followed) have no wall clock, and the record moves the clock."""
    feed, core = replay_mrt(tmp_path, follow=False)
    assert feed.guard.skewed == 0 and core.now >= NOW + TEN_YEARS
    assert state_a_minute_later(core) is not PrefixState.WITHDRAWN


@dataclass
class Elem:
    """Shaped like pybgpstream's BGPElem (the attributes routewatch reads)."""

    type: str
    time: float
    peer_address: str
    peer_asn: int
    fields: Mapping[str, Any] = field(default_factory=dict)


def elems() -> list[Elem]:
    out = []
    for u in story():
        if u.withdrawn:
            out.append(Elem("W", u.time, u.peer_ip, u.peer_as, {"prefix": u.withdrawn[0]}))
        else:
            out.append(Elem("A", u.time, u.peer_ip, u.peer_as,
                            {"prefix": u.announced[0], "as-path": " ".join(map(str, u.path)), "next-hop": u.peer_ip}))
    out.append(Elem("A", float("nan"), "192.0.2.1", 64501, {"prefix": OTHER, "as-path": "64501 65010"}))
    return out


def test_a_live_bgpstream_elem_from_the_future_is_judged_at_the_wall_clock() -> None:
    settings = config({"type": "bgpstream", "project": "ris-live"})
    core = build_engine(settings)
    feed = BgpStreamFeed(settings.sources[0], SourceContext(settings, clock=lambda: float(NOW)),
                         stream_factory=lambda **_: elems())
    asyncio.run(feed.run(CoreDriver(core), asyncio.Event()))
    assert feed.guard.skewed == 1
    assert feed.counters.malformed == 2  # the future elem, and the one stamped NaN (not a time at all)
    assert core.now <= NOW
    assert state_a_minute_later(core) is PrefixState.WITHDRAWN


def test_a_historical_bgpstream_window_is_not_judged_against_the_wall_clock() -> None:
    settings = config({"type": "bgpstream", "project": "ris", "from_time": NOW - 3600, "until_time": NOW})
    feed = BgpStreamFeed(settings.sources[0], SourceContext(settings, clock=lambda: float(NOW - TEN_YEARS)),
                         stream_factory=lambda **_: elems()[:10])
    core = build_engine(settings)
    asyncio.run(feed.run(CoreDriver(core), asyncio.Event()))
    assert feed.guard.skewed == 0 and core.now == NOW - 600
