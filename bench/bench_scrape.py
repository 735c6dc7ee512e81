"""Scrape cost of /metrics at 1k, 10k and 20k watched prefixes: time, samples, bytes, with and without gzip.

    python bench/bench_scrape.py [--sizes 1000 10000 20000] [--peers 5]

Every prefix is seen by ``--peers`` peers (RIB-established routes) so that it is
visible with a baseline. The first scrape formats every prefix; the quiet one
follows with nothing changed (the kept per-prefix lines). gzip is level 1, as
the server sends it when Prometheus asks (it always does).
"""

from __future__ import annotations

import argparse
import gzip
import ipaddress
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routewatch.core.engine import Engine  # noqa: E402
from routewatch.core.settings import WithdrawalThresholds  # noqa: E402
from routewatch.core.watch import WatchedPrefix, WatchSet  # noqa: E402
from routewatch.exporter.exposition import Exposition  # noqa: E402
from routewatch.exporter.server import GZIP_LEVEL  # noqa: E402
from routewatch.exporter.state import ExportState, ProcessStatus, SnapshotBox  # noqa: E402
from routewatch.model import Peer, RouteAnnouncement, intern_prefix  # noqa: E402

ORIGIN = 64_999
OPENMETRICS = "application/openmetrics-text;version=1.0.0"


def exposition(size: int, peers: int) -> Exposition:
    nets = [intern_prefix(ipaddress.ip_network((0x0A000000 + (i << 8), 24))) for i in range(size)]
    sessions = [Peer(f"rrc{i:02d}", f"198.51.100.{i + 1}", 64_500 + i) for i in range(peers)]
    monitor = Engine(WatchSet([WatchedPrefix(n, frozenset({ORIGIN}), WithdrawalThresholds()) for n in nets]))
    for net in nets:
        for peer in sessions:
            monitor.apply(RouteAnnouncement(0.0, peer, net, (peer.asn, ORIGIN)), established=True)
    monitor.flush()
    monitor.advance(1_000.0)
    return Exposition(SnapshotBox(ExportState(ProcessStatus("bench"), core=monitor.snapshot())))


def scrape(metrics: Exposition) -> tuple[float, bytes]:
    """Milliseconds for one OpenMetrics scrape (as Prometheus asks), and the body."""
    started = time.perf_counter()
    body = metrics(OPENMETRICS)[0]
    return (time.perf_counter() - started) * 1000, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 20_000])
    parser.add_argument("--peers", type=int, default=5)
    args = parser.parse_args()
    print("prefixes | first ms | quiet ms | samples | samples/prefix | bytes | gzip ms | gzip bytes")
    for size in args.sizes:
        metrics = exposition(size, args.peers)
        first, body = scrape(metrics)
        quiet, body = scrape(metrics)
        started = time.perf_counter()
        packed = gzip.compress(body, compresslevel=GZIP_LEVEL)
        squeezed = (time.perf_counter() - started) * 1000
        samples = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
        per_prefix = sum(1 for line in body.splitlines() if b'prefix="10.' in line) / size
        print(f"{size:,} | {first:.0f} | {quiet:.0f} | {samples:,} | {per_prefix:.1f} | {len(body):,} | "
              f"{squeezed:.0f} | {len(packed):,}")


if __name__ == "__main__":
    main()
