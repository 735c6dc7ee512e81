"""The core's update rate on its own: updates/s through ``Engine.apply`` with evaluation.

    python bench/bench_core.py [--updates 50000] [--peers 100] [--profile]

10,000 watched prefixes, 2,000 of them carried by ``--peers`` peers each (loaded
as RIB-established routes); then announcements (80%) and withdrawals (20%) of
random (prefix, peer) pairs, each at a new data timestamp 20 ms after the last,
as on RIS Live, so every update is followed by an evaluation of what it touched.
"""

from __future__ import annotations

import argparse
import cProfile
import ipaddress
import pstats
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routewatch.core.engine import Engine  # noqa: E402
from routewatch.core.settings import WithdrawalThresholds  # noqa: E402
from routewatch.core.watch import WatchedPrefix, WatchSet  # noqa: E402
from routewatch.exporter.bgp import BgpCollector  # noqa: E402
from routewatch.exporter.exposition import Exposition  # noqa: E402
from routewatch.exporter.offline import render  # noqa: E402
from routewatch.exporter.state import ExportState, ProcessStatus, SnapshotBox  # noqa: E402
from routewatch.model import Event, Peer, RouteAnnouncement, RouteWithdrawal, intern_prefix  # noqa: E402

ORIGIN = 64_999


def build(updates: int, peers: int) -> tuple[Engine, list[Event]]:
    rng = random.Random(1)
    nets = [intern_prefix(ipaddress.ip_network((0x0A000000 + (i << 8), 24))) for i in range(10_000)]
    sessions = [Peer(f"rrc{i % 20:02d}", f"198.51.{i // 250}.{i % 250 + 1}", 64_500 + i) for i in range(peers)]
    paths = [(*(rng.randrange(1, 60_000) for _ in range(rng.randrange(2, 6))), ORIGIN) for _ in range(5_000)]
    monitor = Engine(WatchSet([WatchedPrefix(n, frozenset({ORIGIN}), WithdrawalThresholds()) for n in nets]))
    for net in nets[:2_000]:
        for peer in sessions:
            monitor.apply(RouteAnnouncement(0.0, peer, net, paths[rng.randrange(len(paths))]), established=True)
    monitor.flush()
    monitor.advance(1_000.0)
    events: list[Event] = []
    t = 1_000.0
    for _ in range(updates):
        t += 0.02
        net, peer = nets[rng.randrange(2_000)], sessions[rng.randrange(peers)]
        if rng.random() < 0.2:
            events.append(RouteWithdrawal(t, peer, net))
        else:
            events.append(RouteAnnouncement(t, peer, net, paths[rng.randrange(len(paths))]))
    return monitor, events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=50_000)
    parser.add_argument("--peers", type=int, default=100)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    monitor, events = build(args.updates, args.peers)
    monitor.snapshot()  # the daemon publishes every second: later snapshots rebuild only what changed
    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    for event in events:
        monitor.apply(event)
    monitor.flush()
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - started
    print(f"{len(events):,} updates with {args.peers} peers per prefix: {len(events) / elapsed:,.0f} updates/s")
    started = time.perf_counter()
    snapshot = monitor.snapshot()
    print(f"next snapshot ({len(snapshot.prefixes):,} prefixes, those the updates touched rebuilt): "
          f"{(time.perf_counter() - started) * 1000:.1f} ms")
    started = time.perf_counter()
    text = render([BgpCollector(lambda: snapshot)])
    samples = sum(1 for line in text.splitlines() if not line.startswith(b"#"))
    print(f"BGP metrics rendered for one scrape: {(time.perf_counter() - started) * 1000:.0f} ms, "
          f"{samples:,} samples, {len(text) / 2**20:.1f} MiB")
    exposition = Exposition(SnapshotBox(ExportState(ProcessStatus("bench"), core=snapshot)))
    timings = []
    for _ in range(2):
        started = time.perf_counter()
        exposition("application/openmetrics-text;version=1.0.0")
        timings.append((time.perf_counter() - started) * 1000)
    print(f"/metrics (OpenMetrics, as Prometheus asks) through the kept per-prefix lines: first scrape "
          f"{timings[0]:.0f} ms (every prefix formatted), next {timings[1]:.0f} ms (no prefix changed)")
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
