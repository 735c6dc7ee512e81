"""MRT parse throughput: routewatch's read_mrt against ``bgpdump -m`` on the same files.

    python bench/synth_mrt.py      # once: writes bench/out/*.synthetic.gz
    python bench/bench_mrt.py [FILE...]

For each file it measures elements/s of ``bgpdump -m`` (output counted by
``wc -l``), of read_mrt yielding every event, and of read_mrt with a prefix
filter of 10,000 watched prefixes (and their more-specifics) that rejects ~99%
of elements, which is how a replay runs. It checks that all three see the same
number of elements.
"""

from __future__ import annotations

import json
import platform
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from routewatch.sources.mrt.reader import MrtStats, read_mrt

OUT = Path(__file__).resolve().parent / "out"
WATCHED = 10_000


def bgpdump_rate(path: Path) -> tuple[int, float]:
    started = time.perf_counter()
    result = subprocess.run(f"bgpdump -q -m '{path}' | wc -l", shell=True, check=True, capture_output=True, text=True)
    return int(result.stdout), time.perf_counter() - started


def watch_filter(path: Path, count: int) -> Callable[[int, int, int], bool]:
    """A filter like the core's: the element is a watched prefix or a more-specific of one."""
    prefixes: set[tuple[int, int, int]] = set()
    stats = MrtStats()
    for event in read_mrt(path, stats=stats):
        prefix = getattr(event, "prefix", None)
        if prefix is not None:
            prefixes.add((prefix.version, int(prefix.network_address), prefix.prefixlen))
        if len(prefixes) >= count * 20:
            break
    watched = random.Random(1).sample(sorted(prefixes), count)
    keys = {(v, net >> ((32 if v == 4 else 128) - plen), plen) for v, net, plen in watched}
    lengths = {
        4: sorted({plen for v, _, plen in watched if v == 4}),
        6: sorted({plen for v, _, plen in watched if v == 6}),
    }

    def accept(version: int, network: int, length: int) -> bool:
        bits = 32 if version == 4 else 128
        for watched_length in lengths[version]:
            if watched_length > length:
                break
            if (version, network >> (bits - watched_length), watched_length) in keys:
                return True
        return False

    return accept


def reader_rate(path: Path, prefix_filter: Callable[[int, int, int], bool] | None) -> tuple[MrtStats, int, float]:
    stats = MrtStats()
    started = time.perf_counter()
    events = 0
    for _ in read_mrt(path, prefix_filter=prefix_filter, stats=stats):
        events += 1
    return stats, events, time.perf_counter() - started


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    nproc = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return f"{nproc} CPUs, {cpu}, Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"


def main() -> None:
    files = [Path(p) for p in sys.argv[1:]] or [OUT / "updates.synthetic.gz", OUT / "rib.synthetic.gz"]
    manifest_path = OUT / "synthetic.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    print(machine())
    print("| file | elements | bgpdump -m | read_mrt, all events | read_mrt, 10k watched (accepted) |")
    print("|---|---:|---:|---:|---:|")
    for path in files:
        lines, dump_s = bgpdump_rate(path)
        stats, _, all_s = reader_rate(path, None)
        accept = watch_filter(path, WATCHED)
        fstats, kept, filt_s = reader_rate(path, accept)
        expected = manifest.get(path.name, {}).get("elements", stats.elements)
        assert lines == stats.elements == fstats.elements == expected, (lines, stats.elements, expected)
        n = stats.elements
        print(
            f"| {path.name} | {n:,} | {n / dump_s:,.0f}/s ({dump_s:.1f} s) | {n / all_s:,.0f}/s ({all_s:.1f} s) "
            f"| {n / filt_s:,.0f}/s ({filt_s:.1f} s; {kept / n:.1%}) |"
        )


if __name__ == "__main__":
    main()
