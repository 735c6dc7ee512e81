"""The core keeps visibility counts incrementally; they must always equal a full recount."""

from __future__ import annotations

from dataclasses import astuple

from hypothesis import given, settings
from hypothesis import strategies as st

from routewatch.core.engine import Engine
from routewatch.core.settings import CoreSettings, WithdrawalThresholds
from routewatch.core.watch import WatchedPrefix, WatchSet
from routewatch.model import Event, FeedState, Peer, Prefix, parse_prefix
from tests.support.events import announce, collector_state, peer, session_down, session_up, withdraw

PREFIXES = ["10.0.0.0/16", "10.0.1.0/24"]
ORIGIN = 64999

step = st.tuples(
    st.sampled_from(["announce", "announce", "hijack", "withdraw", "withdraw", "down", "up", "stale", "fresh"]),
    st.integers(0, 5),  # peer
    st.integers(0, 1),  # prefix
    st.sampled_from([0.0, 1.0, 30.0, 200.0, 700.0]),  # time step
)


def make_event(kind: str, t: float, who: Peer, prefix: str) -> Event:
    if kind == "announce":
        return announce(t, who, prefix, (who.asn, 3356, ORIGIN))
    if kind == "hijack":
        return announce(t, who, prefix, (who.asn, 666))
    if kind == "withdraw":
        return withdraw(t, who, prefix)
    if kind == "down":
        return session_down(t, who)
    if kind == "up":
        return session_up(t, who)
    return collector_state(t, who.collector, FeedState.STALE if kind == "stale" else FeedState.UP)


@settings(max_examples=400, deadline=None)
@given(st.lists(step, min_size=1, max_size=60))
def test_incremental_counts_equal_a_full_recount(steps: list[tuple[str, int, int, float]]) -> None:
    watch = WatchSet([WatchedPrefix(parse_prefix(p), frozenset({ORIGIN}), WithdrawalThresholds(min_baseline_peers=2))
                      for p in PREFIXES])
    m = Engine(watch, CoreSettings(baseline_min_hold=100, baseline_window=2000, peer_settle=300))
    t = 0.0
    for kind, n, index, dt in steps:
        t += dt
        who = peer(n, collector="rrc00" if n % 2 else "rrc01")
        prefix = PREFIXES[index]
        event = make_event(kind, t, who, prefix)
        m.apply_all([event])
        for tracker in m.visibility.values():
            incremental = astuple(tracker.counts(m.now, m.exclusion))
            members = set(tracker.members(m.now, m.exclusion))
            recounted = astuple(tracker.recount(m.now, m.exclusion))
            assert incremental == recounted, (kind, n, prefix, t)
            assert members == tracker.members(m.now, m.exclusion)
        for watched in watch:
            assert m.detectors["origin"].peers(watched.prefix) == brute_force_unexpected(m, watched.prefix)


def brute_force_unexpected(m: Engine, watched: Prefix) -> int:
    """Distinct fresh peers with a route whose origin the most specific covering watch does not expect."""
    peers = set()
    for prefix in m.table.prefixes():
        covering = m.watch.covering_prefix(prefix)
        if covering is None or covering.prefix != watched:
            continue
        for index, paths in m.table.unicast_paths_by_peer(prefix).items():
            if not m.exclusion.stale(index) and any(not covering.path_expected(p) for p in paths):
                peers.add(index)
    return len(peers)
