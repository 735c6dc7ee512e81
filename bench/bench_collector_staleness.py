"""Collectors changing trust: what a feed inventing collector names, and a real collector's staleness, cost the core.

    python bench/bench_collector_staleness.py [--fake 2000] [--prefixes 2500] [--peers 20]

The core holds ``--prefixes`` watched prefixes, each seen by ``--peers``
peers spread over four collectors (50,000 routes by default, issue 18's
finding 5). Then ``--fake`` collectors that never sent a route each go fresh
and stale (as a feed naming them in KEEPALIVEs makes them), and one real
collector goes stale and comes back. Reports wall time and the work counted
by the core: prefixes marked to be judged again.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routewatch.core.engine import Engine  # noqa: E402
from routewatch.core.settings import WithdrawalThresholds  # noqa: E402
from routewatch.core.watch import WatchedPrefix, WatchSet  # noqa: E402
from routewatch.model import FeedState, Peer, RouteAnnouncement, SourceStatus, intern_prefix  # noqa: E402

ORIGIN = 32934


def loaded(prefixes: int, peers: int) -> Engine:
    networks = [intern_prefix(ipaddress.ip_network(f"10.{i // 256}.{i % 256}.0/24")) for i in range(prefixes)]
    core = Engine(WatchSet([WatchedPrefix(p, frozenset({ORIGIN}), WithdrawalThresholds()) for p in networks]))
    sessions = [Peer(f"rrc{n % 4:02}", f"192.0.2.{n + 1}", 64_500 + n) for n in range(peers)]
    core.apply_all([SourceStatus(0.0, "bench", FeedState.UP, collector=f"rrc{n:02}") for n in range(4)])
    core.apply_all((RouteAnnouncement(1.0, peer, p, (peer.asn, ORIGIN)) for p in networks for peer in sessions),
                   established=True)
    return core


def trust(core: Engine, collector: str, time_: float, state: FeedState) -> None:
    core.apply_all([SourceStatus(time_, "bench", state, collector=collector)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fake", type=int, default=2_000)
    parser.add_argument("--prefixes", type=int, default=2_500)
    parser.add_argument("--peers", type=int, default=20)
    args = parser.parse_args()
    core = loaded(args.prefixes, args.peers)
    print(f"{core.table.route_count():,} routes, {args.prefixes:,} watched prefixes")
    start, before = time.perf_counter(), core.standing.rejudged
    for n in range(args.fake):
        trust(core, f"fake{n}", 10.0 + n, FeedState.UP)
        trust(core, f"fake{n}", 10.5 + n, FeedState.STALE)
    print(f"{args.fake:,} fake collectors fresh then stale: {time.perf_counter() - start:.2f} s, "
          f"{core.standing.rejudged - before:,} prefixes re-judged")
    start, before = time.perf_counter(), core.standing.rejudged
    trust(core, "rrc01", 10.0 + args.fake, FeedState.STALE)
    trust(core, "rrc01", 11.0 + args.fake, FeedState.UP)
    print(f"one real collector stale then fresh: {time.perf_counter() - start:.3f} s, "
          f"{core.standing.rejudged - before:,} prefixes re-judged")


if __name__ == "__main__":
    main()
