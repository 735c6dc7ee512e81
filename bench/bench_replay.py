"""Replay throughput and memory against bgpdump on the same synthetic files.

    python bench/bench_replay.py [--out bench/out] [--watch 10000] [--profile]

Generates the synthetic files first if they are missing (bench/synth_mrt.py):
a >= 1M element update file (IPv4 and IPv6, with withdrawals) and an 800k-prefix
full-table RIB. Watches 10,000 prefixes taken from the RIB (every Nth prefix, with
the origin bgpdump reports), then measures in one run:

- ``bgpdump -m FILE > /dev/null``: elements/s (the reference);
- ``routewatch replay`` in-process (reader + core), RIB then updates: elements/s,
  where an element is one (peer, prefix) announcement or withdrawal in the file,
  watched or not;
- the same as a subprocess of the CLI, with its peak RSS;
- memory per tracked (prefix, peer) route, measured with tracemalloc around the
  route table after the RIB is loaded;
- with --profile, where the time goes (cProfile, top functions by own time).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import pstats
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from routewatch.config.schema import load_config  # noqa: E402
from routewatch.config.to_core import build_engine  # noqa: E402
from routewatch.core.engine import Engine  # noqa: E402
from routewatch.tools.replay import replay_files  # noqa: E402


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def ensure_files(out: Path) -> tuple[Path, Path]:
    rib, updates = out / "rib.synthetic.gz", out / "updates.synthetic.gz"
    if not (rib.exists() and updates.exists()):
        subprocess.run([sys.executable, str(ROOT / "bench" / "synth_mrt.py"), "--out", str(out)], check=True)
    return rib, updates


def bgpdump(path: Path) -> tuple[int, float]:
    """(elements, seconds) of ``bgpdump -m``, output counted but not kept."""
    started = time.perf_counter()
    proc = subprocess.Popen(["bgpdump", "-m", str(path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    lines = 0
    for chunk in iter(lambda: proc.stdout.read(1 << 20), b""):  # type: ignore[union-attr]
        lines += chunk.count(b"\n")
    proc.wait()
    elapsed = time.perf_counter() - started
    return lines, elapsed


def bgpdump_devnull(path: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["bgpdump", "-m", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def write_config(rib: Path, out: Path, count: int) -> Path:
    """Watch ``count`` prefixes spread over the RIB, with the origin bgpdump sees."""
    text = subprocess.run(["bgpdump", "-m", str(rib)], capture_output=True, text=True, check=True).stdout
    origins: dict[str, int] = {}
    for line in text.splitlines():
        fields = line.split("|")
        if len(fields) > 6 and fields[6] and fields[5] not in origins:
            origins[fields[5]] = int(fields[6].split()[-1].strip("{}").split(",")[0])
    prefixes = list(origins.items())
    step = max(1, len(prefixes) // count)
    chosen = prefixes[::step][:count]
    config = {
        "prefixes": [{"prefix": p, "asn": asn} for p, asn in chosen],
        "limits": {"max_watched_prefixes": max(count, 20_000)},
    }
    path = out / f"watch-{count}.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def replay_in_process(config_path: Path, files: list[Path], profile: bool) -> tuple[int, float, str]:
    monitor = build_engine(load_config(config_path))
    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    report = replay_files(monitor, [str(f) for f in files])
    if profiler:
        profiler.disable()
    table = ""
    if profiler:
        buffer = io.StringIO()
        pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(15)
        table = buffer.getvalue()
    return report.elements, report.seconds, table


CORE_DIR = "/routewatch/core/"  # every module of the core, the detectors included


def memory_per_route(config_path: Path, rib: Path) -> tuple[int, float, float]:
    """(tracked routes, core bytes per route, reader-cache bytes per route) after loading the RIB.

    tracemalloc attributes each allocation to the line that made it: what the
    core's modules allocated is the route table, baselines and trackers; the
    rest (AS paths, prefixes and addresses interned by the MRT reader, shared by
    every route that uses them) is reported apart.
    """
    config = load_config(config_path)
    tracemalloc.start(1)
    monitor = build_engine(config)
    before = tracemalloc.take_snapshot()
    replay_files(monitor, [str(rib)])
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    core = reader = 0
    for stat in after.compare_to(before, "filename"):
        name = stat.traceback[0].filename
        if CORE_DIR in name:
            core += stat.size_diff
        elif "/routewatch/sources/" in name:
            reader += stat.size_diff
    routes = max(monitor.table.route_count(), 1)
    return routes, core / routes, reader / routes


def memory_dense(prefixes: int = 2_000, peers: int = 200) -> tuple[int, float]:
    """Core bytes per route when every prefix is carried by many peers, as on a RIS collector.

    The synthetic RIB gives each prefix 2-4 peers, so per-prefix structures
    (trackers, dicts) dominate its per-route figure; a collector's full table
    has hundreds of peers per prefix, where the per-route cost is what counts.
    """
    import ipaddress
    import random

    from routewatch.core.settings import WithdrawalThresholds
    from routewatch.core.watch import WatchedPrefix, WatchSet
    from routewatch.model import Peer, RouteAnnouncement

    rng = random.Random(1)
    nets = [ipaddress.ip_network((0x0A000000 + (i << 8), 24)) for i in range(prefixes)]
    sessions = [Peer("rrc00", f"198.51.{i // 250}.{i % 250 + 1}", 64500 + i) for i in range(peers)]
    paths = [(*(rng.randrange(1, 60_000) for _ in range(rng.randrange(2, 7))), 64_999) for _ in range(5_000)]
    monitor = Engine(WatchSet([WatchedPrefix(n, frozenset({64_999}), WithdrawalThresholds()) for n in nets]))
    events = [RouteAnnouncement(0.0, p, n, paths[rng.randrange(len(paths))]) for n in nets for p in sessions]
    tracemalloc.start(1)
    before = tracemalloc.take_snapshot()
    for event in events:
        monitor.apply(event, established=True)
    monitor.flush()
    monitor.advance(3_600.0)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    core = sum(s.size_diff for s in after.compare_to(before, "filename")
               if CORE_DIR in s.traceback[0].filename)
    routes = monitor.table.route_count()
    return routes, core / routes


def cli_run(config_path: Path, files: list[Path]) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of the real command."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "routewatch", "replay", "-c", str(config_path), "--no-progress",
                    *map(str, files)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--watch", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rib, updates = ensure_files(args.out)
    print(f"machine: {machine()}; date: {time.strftime('%Y-%m-%d')}")
    config_path = write_config(rib, args.out, args.watch)

    for name, path in (("updates", updates), ("rib", rib)):
        elements, _ = bgpdump(path)
        seconds = bgpdump_devnull(path)
        print(f"bgpdump -m {name}: {elements:,} elements in {seconds:.2f} s = {elements / seconds:,.0f} elements/s")

    elements, seconds, _ = replay_in_process(config_path, [updates], False)
    print(f"routewatch replay updates ({args.watch:,} watched): {elements:,} elements in {seconds:.2f} s "
          f"= {elements / seconds:,.0f} elements/s")
    elements, seconds, _ = replay_in_process(config_path, [rib], False)
    print(f"routewatch replay rib ({args.watch:,} watched): {elements:,} elements in {seconds:.2f} s "
          f"= {elements / seconds:,.0f} elements/s")
    seconds, rss = cli_run(config_path, [rib, updates])
    print(f"routewatch replay CLI, rib + updates: {seconds:.2f} s wall (incl. start-up), peak RSS {rss:,.0f} MiB")
    routes, per_route, reader = memory_per_route(config_path, rib)
    print(f"memory: {routes:,} tracked (prefix, peer) routes, {per_route:,.0f} bytes per route in the core "
          f"(route table, baselines, trackers; tracemalloc), plus {reader:,.0f} bytes per route of interned "
          "paths and prefixes in the reader's caches")
    routes, per_route = memory_dense()
    print(f"memory, dense table (2,000 prefixes x 200 peers): {routes:,} routes, {per_route:,.0f} bytes per route "
          "in the core")
    if args.profile:
        _, _, table = replay_in_process(config_path, [updates], True)
        print(table)


if __name__ == "__main__":
    main()
