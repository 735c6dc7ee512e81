"""What ``routewatch replay --metrics-out`` adds to the replay of a 500k-entry RIB.

    python bench/bench_metrics_out.py [--out bench/out] [--watch 10000] [--rounds 5]

Writes ``rib500k.synthetic.gz`` once (the generator of bench/synth_mrt.py, its
prefix pools cut to about 500,000 RIB entries), watches ``--watch`` of its
prefixes (bench_replay.write_config), then runs the real CLI ``--rounds`` times
with and without ``--metrics-out``, alternating so that load drifts hit both
alike, and reports medians. The same run also times the parts in-process on
the engine the replay left (the first snapshot, the rendering replay_cmd uses,
and the same text through prometheus_client's families, the way it was written
before), so that the difference between the CLI medians can be checked
against what each part costs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_replay import machine, write_config  # noqa: E402
from synth_mrt import World, write_rib  # noqa: E402

from routewatch.config.schema import load_config  # noqa: E402
from routewatch.config.to_core import build_engine, withdrawal_thresholds  # noqa: E402
from routewatch.exporter.bgp import BgpCollector  # noqa: E402
from routewatch.exporter.offline import render, render_core  # noqa: E402
from routewatch.tools.replay import replay_files  # noqa: E402

ENTRIES = 500_000
V4_PREFIXES, V6_PREFIXES = 155_000, 12_000  # 2-4 peers each: about 500k entries


def ensure_rib(out: Path) -> Path:
    path = out / "rib500k.synthetic.gz"
    if not path.exists():
        world = World(random.Random(1))
        world.v4 = sorted(random.Random(2).sample(world.v4, V4_PREFIXES))
        world.v6 = sorted(random.Random(3).sample(world.v6, V6_PREFIXES))
        counts = write_rib(world, path)
        print(f"wrote {path.name}: {counts['entries']:,} entries, {counts['prefixes']:,} prefixes")
    return path


def cli_seconds(config: Path, rib: Path, metrics_out: Path | None) -> float:
    extra = ["--metrics-out", str(metrics_out)] if metrics_out else []
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "routewatch", "replay", "-c", str(config), "--no-progress", *extra,
                    str(rib)], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def render_parts(config: Path, rib: Path, repeat: int = 5) -> dict[str, float]:
    """Seconds of each part of --metrics-out on the engine a replay left (render medians of ``repeat``).

    ``snapshot``: the first snapshot after the replay (builds every prefix's status; the CLI makes no other);
    ``render_core``: what replay_cmd writes with; ``prometheus_client``: the same text through
    prometheus_client's families (``render([BgpCollector])``, what it wrote with before).
    """
    loaded = load_config(config)
    monitor = build_engine(loaded)
    replay_files(monitor, [str(rib)])
    default = withdrawal_thresholds(loaded.bgp.thresholds)
    started = time.perf_counter()
    snapshot = monitor.snapshot()
    parts = {"snapshot": time.perf_counter() - started}
    for name, write in (("render_core", lambda: render_core(snapshot, default)),
                        ("prometheus_client", lambda: render([BgpCollector(lambda: snapshot, default)]))):
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            write()
            times.append(time.perf_counter() - started)
        parts[name] = statistics.median(times)
    return parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--watch", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rib = ensure_rib(args.out)
    config = write_config(rib, args.out, args.watch)
    print(f"machine: {machine()}; date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print("load before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    without, with_out = [], []
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "final.prom"
        for _ in range(args.rounds):
            without.append(cli_seconds(config, rib, None))
            with_out.append(cli_seconds(config, rib, target))
        written = target.stat().st_size
    base, metrics = statistics.median(without), statistics.median(with_out)
    parts = render_parts(config, rib)
    print(f"replay CLI, {args.watch:,} watched, without --metrics-out: median {base:.2f} s "
          f"({', '.join(f'{s:.2f}' for s in without)})")
    print(f"replay CLI, {args.watch:,} watched, with --metrics-out:    median {metrics:.2f} s "
          f"({', '.join(f'{s:.2f}' for s in with_out)}); file {written:,} bytes")
    print(f"overhead: {metrics - base:+.2f} s = {100 * (metrics - base) / base:+.1f}% (target <= 10%)")
    print(f"in-process, on the engine the replay left: first snapshot {parts['snapshot'] * 1000:.0f} ms; "
          f"render_core (what --metrics-out writes with) median {parts['render_core'] * 1000:.0f} ms; "
          f"the same text through prometheus_client's families median {parts['prometheus_client'] * 1000:.0f} ms")
    print("load after:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
