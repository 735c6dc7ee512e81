"""Replay throughput with the path and neighbour policies on against off, in the same run.

    python bench/bench_path_detectors.py [--out bench/out] [--watch 10000] [--rounds 3]
                                         [--configs off,prefixes,asns,on] [--files rib,updates]

Uses the synthetic RIB and update files of bench_replay.py (generated if missing)
and watches the same 10,000 prefixes in four configs:

- ``off``: as bench_replay.py does (origin only: the neighbour and path detectors
  have nothing to check);
- ``prefixes``: every prefix with its ``upstreams`` (the AS left of the origin in
  the first RIB path bgpdump shows for it, plus one more) and a path rule
  (``max_length: 12`` and a ``not_match`` on a private AS): what issue 12's target
  is about, the per-prefix policies;
- ``asns``: ``off`` plus 20 watched ASNs (the transit ASes that occur most in the
  paths, ``max_prefixes: 1``) without any path policy: the cost of ASN discovery,
  which the path detectors do not add. The reader checks every element's raw AS
  path for a watched origin and defers the rest undecoded, to be judged when the
  replay reaches them (``routewatch/sources/mrt/discovery.py``);
- ``on``: ``prefixes`` plus those ASNs with declared ``upstreams`` and
  ``downstreams``, so the neighbour checks of watched ASes run on most routes. Its
  reference is ``asns``, not ``off``.

Each (config, file) replay is timed apart, in wall-clock and process CPU time (the
CPU figure is the one to read on a shared machine). The rounds alternate the configs
so drift in the machine's speed falls on all; the figures are medians per config and
file, and each policy config's cost is the ratio of medians against its reference.
"""

from __future__ import annotations

import argparse
import gc
import os
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

from bench_replay import build_engine, ensure_files, load_config, machine, replay_files  # noqa: E402

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


REFERENCE = {"prefixes": "off", "on": "asns"}
"""The config each policy config is compared with: the same watch set without the policies."""


def write_configs(rib: Path, out: Path, count: int) -> dict[str, Path]:
    """The four configs (see the module docstring) for ``count`` prefixes, by name."""
    first, transit = rib_paths(rib)
    chosen = list(first.items())[:: max(1, len(first) // count)][:count]
    limits = {"max_watched_prefixes": max(count, 20_000)}
    busiest = [asn for asn, _ in transit.most_common(TRANSIT_ASNS * 3)]
    plain = [{"prefix": p, "asn": path[-1]} for p, path in chosen]
    policed = [{**entry, "upstreams": sorted({path[-2] if len(path) > 1 else 64_512, 64_513}),
                "path": [{"max_length": 12, "not_match": "64512$", "description": "bench"}]}
               for entry, (_, path) in zip(plain, chosen, strict=True)]
    asns = [{"asn": asn, "max_prefixes": 1} for asn in busiest[:TRANSIT_ASNS]]
    neighbours = [{**entry, "upstreams": busiest[i + 1: i + 4], "downstreams": busiest[i + 4: i + 8]}
                  for i, entry in enumerate(asns)]
    configs = {
        "off": {"prefixes": plain, "limits": limits},
        "prefixes": {"prefixes": policed, "limits": limits},
        "asns": {"prefixes": plain, "asns": asns, "limits": limits},
        "on": {"prefixes": policed, "asns": neighbours, "limits": limits},
    }
    paths = {}
    for name, config in configs.items():
        paths[name] = out / f"watch-{count}-{name}.yaml"
        paths[name].write_text(yaml.safe_dump(config))
    return paths


def timed(config: Path, data: Path) -> tuple[int, float, float]:
    """(elements, wall seconds, process CPU seconds) of one in-process replay.

    The config is loaded and the core built before the clocks start: the policy
    configs are larger YAML (a list and a rule per prefix), and reading them is
    not replay throughput.
    """
    monitor = build_engine(load_config(config))
    gc.collect()
    cpu = time.process_time()
    report = replay_files(monitor, [str(data)])
    return report.elements, report.seconds, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--watch", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--configs", default="off,prefixes,asns,on")
    parser.add_argument("--files", default="rib,updates")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rib, updates = ensure_files(args.out)
    files = {name: path for name, path in (("rib", rib), ("updates", updates)) if name in args.files.split(",")}
    print(f"machine: {machine()}; date: {time.strftime('%Y-%m-%d %H:%M')}; load: {os.getloadavg()[0]:.1f}")
    configs = {name: path for name, path in write_configs(rib, args.out, args.watch).items()
               if name in args.configs.split(",")}
    runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    elements: dict[str, int] = {}
    for round_ in range(args.rounds):
        for file, data in files.items():
            for name, config in configs.items():
                count, wall, cpu = timed(config, data)
                elements[file] = count
                runs.setdefault((name, file), []).append((wall, cpu))
                print(f"round {round_ + 1} {name} {file}: {count:,} elements, {wall:.2f} s wall, {cpu:.2f} s CPU "
                      f"= {count / cpu:,.0f} elements per CPU-second", flush=True)
    print(f"load after: {os.getloadavg()[0]:.1f}")
    median = {key: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for key, v in runs.items()}
    for (name, file), (wall, cpu) in median.items():
        print(f"median {name} {file}: {wall:.2f} s wall, {cpu:.2f} s CPU, {elements[file] / cpu:,.0f} elements/CPU-s")
    for name, reference in REFERENCE.items():
        if name not in configs or reference not in configs:
            continue
        for combined in (list(files), *([f] for f in files)) if len(files) > 1 else ([*files],):
            cpu = sum(median[name, f][1] for f in combined)
            ref = sum(median[reference, f][1] for f in combined)
            print(f"{name} against {reference}, {'+'.join(combined)}: {ref:.2f} -> {cpu:.2f} CPU-s, "
                  f"{100 * (cpu / ref - 1):+.1f}% CPU time, throughput {100 * (1 - ref / cpu):.1f}% lower "
                  "(target <= 15%)")


if __name__ == "__main__":
    main()
