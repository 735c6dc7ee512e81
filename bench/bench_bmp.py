"""BMP ingestion: a full table pushed over TCP into the station and core, against bgpdump and the MRT path.

    python bench/bench_bmp.py [--out bench/out] [--watch 10000] [--routes N] [--samples 200]

Generates the synthetic RIB first if it is missing (bench/synth_mrt.py: 24
peers, 800k IPv4 and 60k IPv6 prefixes, 2-4 peers each). In one run:

- ``bgpdump -m RIB``: elements/s (the reference), its output also being where
  the BMP stream comes from;
- the MRT path: ``replay_files`` (routewatch's MRT reader and core) on the same
  RIB with the same watch list: elements/s;
- the BMP stream: one router (Initiation, a Peer Up per peer, one Route
  Monitoring message per IPv4 RIB entry, an End-of-RIB per peer), encoded by
  the tests' own BMP and UPDATE writers (tests/support/bmp_writer.py, from
  RFC 7854 and RFC 4271, never routewatch's decoder) from bgpdump's reading of
  the RIB; the benchmark connects to the station over loopback TCP and writes
  the whole stream as fast as the socket takes it. Routes/s from the first byte
  written to the last message applied to the core (10,000 watched prefixes);
- withdrawal latency: afterwards, on the same connection, a watched prefix is
  withdrawn by every peer carrying it; time from writing the first withdrawal to
  the core having judged the prefix ``pending`` (visibility below the withdrawn
  threshold), p50 and p99 over ``--samples`` prefixes.

Only IPv4 entries go into the BMP stream (the tests' UPDATE writer encodes
IPv4 NLRI); the reference rates are over the whole file, IPv6 included.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from ipaddress import ip_network
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from routewatch.config.schema import Config, parse_config  # noqa: E402
from routewatch.config.sources import BmpSource  # noqa: E402
from routewatch.config.to_core import build_engine  # noqa: E402
from routewatch.core.engine import Engine  # noqa: E402
from routewatch.daemon.core_sink import CoreDriver  # noqa: E402
from routewatch.model import Prefix  # noqa: E402
from routewatch.sources.base import SourceContext  # noqa: E402
from routewatch.sources.bmp.station import BmpStation  # noqa: E402
from routewatch.tools.replay import replay_files  # noqa: E402
from tests.support.bmp_writer import initiation, message, peer_up, per_peer  # noqa: E402
from tests.support.mrt_writer import Update, _update_message  # noqa: E402

END_OF_RIB = b"\xff" * 16 + struct.pack(">HB", 23, 2) + bytes(4)


@dataclass(frozen=True, slots=True)
class Entry:
    """One RIB entry as bgpdump reads it."""

    time: int
    peer: str
    peer_as: int
    prefix: str
    path: tuple[int, ...]
    next_hop: str


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def ensure_rib(out: Path) -> Path:
    rib = out / "rib.synthetic.gz"
    if not rib.exists():
        subprocess.run([sys.executable, str(ROOT / "bench" / "synth_mrt.py"), "--out", str(out)], check=True)
    return rib


def bgpdump_rate(path: Path) -> tuple[int, float]:
    """(elements, seconds) of ``bgpdump -m``, output counted but not kept."""
    started = time.perf_counter()
    proc = subprocess.Popen(["bgpdump", "-m", str(path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    lines = sum(chunk.count(b"\n") for chunk in iter(lambda: proc.stdout.read(1 << 20), b""))  # type: ignore[union-attr]
    proc.wait()
    return lines, time.perf_counter() - started


def rib_entries(path: Path, limit: int | None) -> Iterator[Entry]:
    """The IPv4 entries of the RIB with a plain AS_SEQUENCE path, as bgpdump prints them."""
    proc = subprocess.Popen(["bgpdump", "-m", str(path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    assert proc.stdout is not None
    count = 0
    try:
        for line in proc.stdout:
            fields = line.split("|")
            if len(fields) < 9 or ":" in fields[5] or "{" in fields[6] or not fields[6]:
                continue
            yield Entry(int(fields[1]), fields[3], int(fields[4]), fields[5],
                        tuple(int(a) for a in fields[6].split()), fields[8])
            count += 1
            if limit is not None and count >= limit:
                break
    finally:
        proc.kill()
        proc.wait()


def watch_list(entries: list[Entry], count: int) -> list[tuple[str, int]]:
    """``count`` prefixes spread over the table, each with the origin its first entry shows."""
    origins: dict[str, int] = {}
    for entry in entries:
        origins.setdefault(entry.prefix, entry.path[-1])
    prefixes = list(origins.items())
    step = max(1, len(prefixes) // count)
    return prefixes[::step][:count]


def bench_config(port: int, watched: list[tuple[str, int]]) -> Config:
    """The watched prefixes (judged from one peer up, as a single router's view is), one BMP station."""
    return parse_config({
        "prefixes": [{"prefix": p, "asn": asn} for p, asn in watched],
        "limits": {"max_watched_prefixes": max(len(watched), 20_000)},
        "bgp": {"thresholds": {"min_baseline_peers": 1}},
        "sources": [{"type": "bmp", "listen": "127.0.0.1", "port": port, "routers": ["127.0.0.1"]}],
    })


class Stamps:
    """Caches each (peer, time) per-peer header: the writer is built for tests, not for 2M messages."""

    def __init__(self, peer_as: dict[str, int]) -> None:
        self.peer_as = peer_as
        self.headers: dict[tuple[str, int], bytes] = {}

    def header(self, peer: str, when: int) -> bytes:
        key = (peer, when)
        found = self.headers.get(key)
        if found is None:
            found = self.headers[key] = per_peer(peer, self.peer_as[peer], time=float(when))
        return found


def route_message(stamps: Stamps, entry: Entry) -> bytes:
    update = Update(entry.time, entry.next_hop, entry.peer_as, [entry.prefix], entry.path)
    return message(0, stamps.header(entry.peer, entry.time) + _update_message(update))


def withdrawal(stamps: Stamps, peer: str, prefix: str, when: int) -> bytes:
    update = Update(when, peer, stamps.peer_as[peer], withdrawn=[prefix])
    return message(0, stamps.header(peer, when) + _update_message(update))


def bmp_stream(entries: list[Entry], stamps: Stamps) -> tuple[bytes, int]:
    """(the router's whole stream, its message count): Initiation, Peer Ups, the table, End-of-RIBs."""
    first = min(e.time for e in entries)
    parts = [initiation("bench-router")]
    parts += [peer_up(peer, asn, time=float(first)) for peer, asn in sorted(stamps.peer_as.items())]
    parts += [route_message(stamps, e) for e in entries]
    parts += [message(0, stamps.header(peer, first) + END_OF_RIB) for peer in sorted(stamps.peer_as)]
    return b"".join(parts), len(parts)


class ProbeDriver(CoreDriver):
    """The daemon's driver; after each flush, tells whether the probed prefix has been judged below threshold."""

    def __init__(self, core: Engine) -> None:
        super().__init__(core)
        self.probe: Prefix | None = None
        self.judged = asyncio.Event()

    def flush(self) -> None:
        super().flush()
        if self.probe is not None and self.core.visibility[self.probe].below_since is not None:
            self.judged.set()


async def ingest(config: Config, stream: bytes, messages: int, probes: list[tuple[str, list[str]]],
                 stamps: Stamps, when: int) -> tuple[float, list[float], Engine]:
    """(seconds to ingest the stream, withdrawal latencies, the core)."""
    core = build_engine(config)
    driver = ProbeDriver(core)
    settings = config.sources[0]
    assert isinstance(settings, BmpSource)
    station = BmpStation(settings, SourceContext(config))
    stop = asyncio.Event()
    task = asyncio.create_task(station.run(driver, stop))
    while not station.counters.up:
        await asyncio.sleep(0.01)
    _, writer = await asyncio.open_connection("127.0.0.1", settings.port)
    started = time.perf_counter()
    writer.write(stream)
    await writer.drain()
    while station.counters.messages < messages:
        await asyncio.sleep(0.005)
    seconds = time.perf_counter() - started
    assert station.router_counters["127.0.0.1"].end_of_ribs == len(stamps.peer_as)

    latencies = []
    for n, (prefix, peers) in enumerate(probes):
        driver.probe, driver.judged = ip_network(prefix), asyncio.Event()
        at = when + 1 + n
        started = time.perf_counter()
        writer.write(b"".join(withdrawal(stamps, peer, prefix, at) for peer in peers))
        await writer.drain()
        await asyncio.wait_for(driver.judged.wait(), 10)
        latencies.append(time.perf_counter() - started)
    writer.close()
    stop.set()
    await task
    return seconds, latencies, core


def mrt_rate(config: Config, rib: Path) -> tuple[int, float]:
    report = replay_files(build_engine(config), [str(rib)])
    return report.elements, report.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--watch", type=int, default=10_000)
    parser.add_argument("--routes", type=int, default=None, help="only the first N IPv4 entries of the RIB")
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rib = ensure_rib(args.out)
    print(f"machine: {machine()}; date: {time.strftime('%Y-%m-%d %H:%M')}; load average {load()}")

    elements, seconds = bgpdump_rate(rib)
    print(f"bgpdump -m {rib.name}: {elements:,} elements in {seconds:.1f} s = {elements / seconds:,.0f}/s")

    started = time.perf_counter()
    entries = list(rib_entries(rib, args.routes))
    peer_as = {e.peer: e.peer_as for e in entries}
    stamps = Stamps(peer_as)
    stream, messages = bmp_stream(entries, stamps)
    print(f"BMP stream: {len(entries):,} IPv4 routes from {len(peer_as)} peers, {messages:,} messages, "
          f"{len(stream) / 2**20:,.0f} MiB (built in {time.perf_counter() - started:.0f} s, not timed)")

    port = _free_port()
    watched = watch_list(entries, args.watch)
    config = bench_config(port, watched)
    carriers: dict[str, list[str]] = {}
    watched_set = {p for p, _ in watched}
    for entry in entries:
        if entry.prefix in watched_set:
            carriers.setdefault(entry.prefix, []).append(entry.peer)
    probes = [(p, carriers[p]) for p, _ in watched[:: max(1, len(watched) // args.samples)][: args.samples]]

    mrt_elements, mrt_seconds = mrt_rate(config, rib)
    print(f"MRT path (replay_files, reader + core) {rib.name}: {mrt_elements:,} elements in {mrt_seconds:.1f} s "
          f"= {mrt_elements / mrt_seconds:,.0f}/s")

    when = max(e.time for e in entries)
    bmp_seconds, latencies, core = asyncio.run(ingest(config, stream, messages, probes, stamps, when))
    print(f"BMP station + core, {len(watched):,} watched: {len(entries):,} routes in {bmp_seconds:.1f} s = "
          f"{len(entries) / bmp_seconds:,.0f} routes/s ({messages / bmp_seconds:,.0f} messages/s); "
          f"{core.table.route_count():,} routes tracked")
    ms = sorted(1000 * t for t in latencies)
    p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
    carried = statistics.mean(len(c) for _, c in probes)
    print(f"withdrawal -> prefix judged pending, {len(ms)} prefixes (withdrawn by {carried:.1f} peers each): "
          f"p50 {statistics.median(ms):.2f} ms, p99 {p99:.2f} ms, max {ms[-1]:.2f} ms")
    print(f"load average at the end: {load()} (the machine may be shared: compare figures of one run only)")


def load() -> str:
    """The 1-, 5- and 15-minute load averages."""
    return " ".join(f"{value:.1f}" for value in os.getloadavg())


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    main()
