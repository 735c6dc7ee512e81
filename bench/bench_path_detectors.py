"""Replay throughput with the path and neighbour detectors on against off, in the same run.

    python bench/bench_path_detectors.py [--out bench/out] [--watch 10000] [--rounds 3]

Uses the synthetic RIB and update files of bench_replay.py (generated if missing)
and watches the same 10,000 prefixes twice: once as bench_replay.py does (origin
only: the neighbour and path detectors have nothing to check), once with every
policy they read: each prefix's `upstreams` (the AS left of the origin in the
first RIB path bgpdump shows for it, plus one more), a path rule (`max_length:
12` and a `not_match` on a private AS), and 20 watched ASNs with declared
`upstreams` and `downstreams` (the transit ASes that occur most in the paths,
so those checks run on most routes). The rounds alternate off/on so drift in
the machine's speed falls on both; the figure is the median per side and the
ratio of the medians.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_replay import ensure_files, machine, replay_in_process  # noqa: E402

TRANSIT_ASNS = 20


def rib_paths(rib: Path) -> tuple[dict[str, list[int]], Counter[int]]:
    """The first AS path bgpdump shows per prefix, and how often each AS stands inside a path."""
    text = subprocess.run(["bgpdump", "-m", str(rib)], capture_output=True, text=True, check=True).stdout
    first: dict[str, list[int]] = {}
    transit: Counter[int] = Counter()
    for line in text.splitlines():
        fields = line.split("|")
        if len(fields) <= 6 or not fields[6] or "{" in fields[6]:
            continue
        path = [int(a) for a in fields[6].split()]
        transit.update(path[1:-1])
        first.setdefault(fields[5], path)
    return first, transit


def write_configs(rib: Path, out: Path, count: int) -> tuple[Path, Path]:
    """(origin-only config, the same prefixes with every path policy) for ``count`` prefixes."""
    first, transit = rib_paths(rib)
    chosen = list(first.items())[:: max(1, len(first) // count)][:count]
    limits = {"max_watched_prefixes": max(count, 20_000)}
    off = {"prefixes": [{"prefix": p, "asn": path[-1]} for p, path in chosen], "limits": limits}
    busiest = [asn for asn, _ in transit.most_common(TRANSIT_ASNS * 3)]
    on = {
        "prefixes": [
            {"prefix": p, "asn": path[-1],
             "upstreams": sorted({path[-2] if len(path) > 1 else 64_512, 64_513}),
             "path": [{"max_length": 12, "not_match": "64512$", "description": "bench"}]}
            for p, path in chosen
        ],
        "asns": [{"asn": asn, "upstreams": busiest[i + 1: i + 4], "downstreams": busiest[i + 4: i + 8],
                  "max_prefixes": 1}
                 for i, asn in enumerate(busiest[:TRANSIT_ASNS])],
        "limits": limits,
    }
    paths = out / f"watch-{count}-off.yaml", out / f"watch-{count}-on.yaml"
    for path, config in zip(paths, (off, on), strict=True):
        path.write_text(yaml.safe_dump(config))
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--watch", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rib, updates = ensure_files(args.out)
    print(f"machine: {machine()}; date: {time.strftime('%Y-%m-%d')}")
    off, on = write_configs(rib, args.out, args.watch)
    rates: dict[str, list[float]] = {"off": [], "on": []}
    for round_ in range(args.rounds):
        for name, config in (("off", off), ("on", on)):
            elements, seconds, _ = replay_in_process(config, [rib, updates], False)
            rates[name].append(elements / seconds)
            print(f"round {round_ + 1} {name}: {elements:,} elements in {seconds:.2f} s "
                  f"= {elements / seconds:,.0f} elements/s", flush=True)
    median_off, median_on = statistics.median(rates["off"]), statistics.median(rates["on"])
    print(f"median off {median_off:,.0f} elements/s, on {median_on:,.0f} elements/s: "
          f"on is {100 * (1 - median_on / median_off):.1f}% slower (target <= 15%)")


if __name__ == "__main__":
    main()
