"""Scrape cost of /metrics at 1k, 10k and 20k watched prefixes: in-process and over HTTP, plain and gzipped.

    python bench/bench_scrape.py [--sizes 1000 10000 20000] [--peers 5] [--rounds 7]

Every prefix is seen by ``--peers`` peers (RIB-established routes) so that it is
visible with a baseline. The first scrape formats every prefix; a quiet one
follows with nothing changed; a "one changed" scrape follows a published
snapshot where one peer withdrew (or announced again) one prefix. In-process
figures time the ``Exposition`` call for the plain OpenMetrics body (what the
earlier rows of bench/RESULTS.md time); HTTP figures time a scrape of a
``MetricsServer`` on loopback, request to last byte, as Prometheus asks
(OpenMetrics, ``Accept-Encoding: gzip``) and without gzip. Every figure after
the first is the median of ``--rounds``. Only the API common to every version
of the exporter is used, so that this file can time an older tree too (copy it
into that tree's ``bench/``).
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import ipaddress
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routewatch.core.engine import Engine  # noqa: E402
from routewatch.core.settings import WithdrawalThresholds  # noqa: E402
from routewatch.core.watch import WatchedPrefix, WatchSet  # noqa: E402
from routewatch.exporter.exposition import Exposition  # noqa: E402
from routewatch.exporter.server import MetricsServer  # noqa: E402
from routewatch.exporter.state import ExportState, ProcessStatus, SnapshotBox  # noqa: E402
from routewatch.model import Peer, Prefix, RouteAnnouncement, RouteWithdrawal, intern_prefix  # noqa: E402

ORIGIN = 64_999
OPENMETRICS = "application/openmetrics-text;version=1.0.0"


class Watched:
    """An engine with ``size`` visible prefixes, publishing its snapshots into a box as the daemon does."""

    def __init__(self, size: int, peers: int) -> None:
        self.nets: list[Prefix] = [intern_prefix(ipaddress.ip_network((0x0A000000 + (i << 8), 24)))
                                   for i in range(size)]
        self.peers = [Peer(f"rrc{i:02d}", f"198.51.100.{i + 1}", 64_500 + i) for i in range(peers)]
        self.engine = Engine(WatchSet([WatchedPrefix(n, frozenset({ORIGIN}), WithdrawalThresholds())
                                       for n in self.nets]))
        for net in self.nets:
            for peer in self.peers:
                self.engine.apply(RouteAnnouncement(0.0, peer, net, (peer.asn, ORIGIN)), established=True)
        self.engine.flush()
        self.now = 1_000.0
        self.engine.advance(self.now)
        self.box = SnapshotBox(ExportState(ProcessStatus("bench"), core=self.engine.snapshot()))
        self.changes = 0

    def change_one(self) -> None:
        """One peer withdraws one prefix, or announces it again; the new snapshot is published."""
        net, peer = self.nets[(self.changes // 2 * 7919) % len(self.nets)], self.peers[0]
        self.now += 1.0
        if self.changes % 2 == 0:
            self.engine.apply(RouteWithdrawal(self.now, peer, net))
        else:
            self.engine.apply(RouteAnnouncement(self.now, peer, net, (peer.asn, ORIGIN)))
        self.engine.flush()
        self.engine.advance(self.now)
        self.box.update(core=self.engine.snapshot())
        self.changes += 1


def timed(scrape: Callable[[], bytes]) -> tuple[float, bytes]:
    started = time.perf_counter()
    body = scrape()
    return (time.perf_counter() - started) * 1000, body


def fetch(connection: http.client.HTTPConnection, compressed: bool) -> bytes:
    headers = {"Accept": OPENMETRICS, "Accept-Encoding": "gzip" if compressed else "identity"}
    connection.request("GET", "/metrics", headers=headers)
    response = connection.getresponse()
    body = response.read()
    assert response.status == 200 and (response.getheader("Content-Encoding") == "gzip") == compressed
    return body


def median(times: list[float]) -> str:
    return f"{statistics.median(times):.1f}"


def bench(size: int, peers: int, rounds: int) -> str:
    watched = Watched(size, peers)
    metrics = Exposition(watched.box)
    first, body = timed(lambda: metrics(OPENMETRICS)[0])
    quiet = [timed(lambda: metrics(OPENMETRICS)[0])[0] for _ in range(rounds)]
    server = MetricsServer(metrics, "127.0.0.1", 0)
    server.start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        fetch(connection, True)
        packed = [timed(lambda: fetch(connection, True)) for _ in range(rounds)]
        plain = [timed(lambda: fetch(connection, False))[0] for _ in range(rounds)]
        changed = []
        for _ in range(rounds):
            watched.change_one()
            changed.append(timed(lambda: fetch(connection, True))[0])
        connection.close()
    finally:
        server.stop()
    assert gzip.decompress(packed[-1][1]) == body  # the quiet scrapes come before any change
    samples = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
    return (f"{size:,} | {first:.0f} | {median(quiet)} | {median([t for t, _ in packed])} | {median(changed)} | "
            f"{median(plain)} | {samples:,} | {len(body):,} | {len(packed[-1][1]):,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 20_000])
    parser.add_argument("--peers", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print("prefixes | first ms | quiet ms | HTTP gzip quiet ms | HTTP gzip one changed ms | HTTP plain quiet ms | "
          "samples | bytes | gzip bytes")
    for size in args.sizes:
        print(bench(size, args.peers, args.rounds), flush=True)


if __name__ == "__main__":
    main()
