"""Per-collector liveness: a silent collector takes only its own peers out; all silent is unknown.

Two real collectors of 2015-04-01 00:00 UTC: RIS rrc06 and RouteViews jinx,
which share hundreds of prefixes with the same origin. The server sends a
KEEPALIVE per collector every few milliseconds; the feed-health clock is the
test's, so "ten seconds of silence" is a step of the clock, not a wait.
"""

from __future__ import annotations

import heapq

from routewatch.config.to_core import build_engine
from routewatch.core.detection import ChangeKind
from routewatch.core.engine import Engine
from routewatch.core.visibility import PrefixState
from routewatch.model import Prefix, parse_prefix
from tests.support.bgpdump import bgpdump_lines
from tests.support.bgpdump_format import BgpdumpLine
from tests.support.live_harness import LiveRun, live_config, ris_server, running_live, wait_until
from tests.support.ris_live_server import Json, RisLiveServer, mrt_path, ris_messages_from_bgpdump
from tests.support.tools import require_data

RIS, ROUTEVIEWS = "rrc06", "route-views.jinx"
FILES = {RIS: "ris.rrc06.updates.1427846400.gz", ROUTEVIEWS: "routeviews.route-views.jinx.updates.1427846400.bz2"}
STALE_AFTER = 10.0


def final_holders(lines: list[BgpdumpLine]) -> dict[str, tuple[set[str], str]]:
    """prefix -> (peers holding it at the end, origin), from bgpdump text."""
    routes: dict[tuple[str, str], str] = {}
    for line in lines:
        if line.kind == "A":
            routes[(line.prefix, line.peer_address)] = line.as_path.split()[-1]
        elif line.kind == "W":
            routes.pop((line.prefix, line.peer_address), None)
    held: dict[str, tuple[set[str], str]] = {}
    for (prefix, peer), origin in routes.items():
        held.setdefault(prefix, (set(), origin))[0].add(peer)
    return held


def shared_prefixes(lines: dict[str, list[BgpdumpLine]], count: int = 8) -> list[tuple[str, int]]:
    ris, routeviews = final_holders(lines[RIS]), final_holders(lines[ROUTEVIEWS])
    shared = [p for p in sorted(ris) if p in routeviews and len(ris[p][0]) == len(routeviews[p][0]) == 1
              and ris[p][1] == routeviews[p][1] and not ris[p][1].startswith("{")]
    return [(p, int(ris[p][1])) for p in shared[:count]]


def merged_messages(lines: dict[str, list[BgpdumpLine]]) -> list[Json]:
    streams = [ris_messages_from_bgpdump(lines[c], c) for c in (RIS, ROUTEVIEWS)]
    return list(heapq.merge(*streams, key=lambda m: m["data"]["timestamp"]))


def states(monitor: Engine, prefixes: list[Prefix]) -> set[PrefixState]:
    snap = monitor.snapshot()
    return {snap.status(p).state for p in prefixes}  # type: ignore[union-attr]


def visible(monitor: Engine, prefixes: list[Prefix]) -> set[tuple[int, int]]:
    snap = monitor.snapshot()
    return {(snap.status(p).visible_peers, snap.status(p).baseline_peers) for p in prefixes}  # type: ignore[union-attr]


async def step(run: LiveRun, seconds: float, server: RisLiveServer, heard: set[str]) -> None:
    """Move the clock; wait until the collectors in ``heard`` spoke after it and the feed was judged.

    Everything already sent is applied first, so that nothing sent before the step counts after it.
    """
    sent = server.frames
    await wait_until(lambda: run.messages >= sent, "everything sent before the step applied")
    run.clock.advance(seconds)
    now = run.clock.now
    feed = run.live.session.feed
    await wait_until(lambda: all(c.last_message == now for c in feed.collectors() if c.name in heard)
                     and feed.last_check == now, f"keepalives from {sorted(heard)} after the clock step")


async def test_silent_collectors_leave_visibility_alone_then_all_together_become_unknown() -> None:
    lines = {c: bgpdump_lines(require_data(mrt_path(f))) for c, f in FILES.items()}
    watched = shared_prefixes(lines)
    prefixes = [parse_prefix(p) for p, _ in watched]
    bgp = {"thresholds": {"hold_down": 5.0, "min_baseline_peers": 1}, "baseline_min_hold": 1.0}
    async with ris_server(keepalive_interval=0.005) as server:
        config = live_config(server.url, [{"prefix": p, "asn": a} for p, a in watched], bgp=bgp,
                             source={"collector_stale_after": STALE_AFTER})
        monitor = build_engine(config, bootstrapped=False)
        async with running_live(config, monitor) as run:
            await server.wait_subscribed(run.live.client.subscription_count)
            messages = merged_messages(lines)
            await server.replay(messages)
            await step(run, 1.0, server, {RIS, ROUTEVIEWS})
            assert run.live.session.feed.data_time == messages[-1]["data"]["timestamp"]
            assert states(monitor, prefixes) == {PrefixState.VISIBLE}
            assert visible(monitor, prefixes) == {(2, 2)}
            replayed = len(run.changes)

            server.silenced.add(RIS)
            await step(run, STALE_AFTER * 0.6, server, {ROUTEVIEWS})
            assert not monitor.snapshot().stale_collectors
            await step(run, STALE_AFTER * 0.6, server, {ROUTEVIEWS})
            assert monitor.snapshot().stale_collectors == {RIS}, (run.clock.now, run.live.session.feed.collectors())
            assert states(monitor, prefixes) == {PrefixState.VISIBLE}
            assert visible(monitor, prefixes) == {(1, 1)}  # only rrc06's peer left, and its baseline place

            server.silenced.add(ROUTEVIEWS)
            await step(run, STALE_AFTER * 0.9, server, set())
            assert states(monitor, prefixes) == {PrefixState.VISIBLE}  # not yet
            await step(run, STALE_AFTER * 0.2, server, set())
            assert monitor.snapshot().stale_collectors == {RIS, ROUTEVIEWS}
            assert states(monitor, prefixes) == {PrefixState.UNKNOWN}

            server.silenced.clear()
            await step(run, 1.0, server, {RIS, ROUTEVIEWS})
            assert not monitor.snapshot().stale_collectors
            assert states(monitor, prefixes) == {PrefixState.VISIBLE}
            assert visible(monitor, prefixes) == {(2, 2)}
            health = run.live.details()

    assert [c for c in run.changes[replayed:] if c.change is ChangeKind.OPENED] == []  # silence is no withdrawal
    assert {c.name: c.state.value for c in health.collectors} == {RIS: "up", ROUTEVIEWS: "up"}
    assert all(c.lag is not None and c.lag > 0 for c in health.collectors)
