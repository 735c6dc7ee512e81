"""RPKI validation cost: replay with and without a realistic VRP set, VRP load time, memory per VRP.

    python bench/bench_rpki.py [--out bench/out] [--vrps 500000] [--watch 10000] [--rounds 3] [--no-rtr]

Uses the synthetic RIB and update files of bench/synth_mrt.py (generated when
missing) and measures in one run:

- a VRP set of ``--vrps`` VRPs written as rpki-client JSON: about 45% of the
  RIB's prefixes get a ROA for the origin bgpdump reports (1 in 100 of them
  for another AS, so some routes are invalid), the rest are made-up prefixes;
  prefix and max lengths follow the shape of the public RPKI (IPv4 mostly /24
  and /22-/23 with max length = prefix length for about 80%; IPv6 mostly /48,
  /32 and /29, a third with max length /48). The shares are an approximation of
  published RPKI statistics, not a copy of a real set (none can be fetched here);
- load time from JSON: parsing (``parse_vrp_json``) and building the trie
  (``VrpIndex``), separately; and from StayRTR serving the same file over RTR
  (``--no-rtr`` skips it);
- memory per VRP: tracemalloc (Python objects: ``Vrp``, networks, the set) and
  the process's resident set growth (which also sees pytricia's C nodes);
- replay of RIB + updates with ``--watch`` watched prefixes, RPKI off and on,
  alternated ``--rounds`` times in the same process: elements/s, the median and
  the best of each, each round's on against its off, and the median CPU
  seconds of each (on a machine shared with other work, CPU time and the
  median of alternated rounds are the fairer comparisons).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import ipaddress
import json
import random
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_replay import ensure_files, machine  # noqa: E402

from routewatch.config.schema import load_config  # noqa: E402
from routewatch.config.to_core import build_engine  # noqa: E402
from routewatch.rpki.json_vrps import parse_vrp_json  # noqa: E402
from routewatch.rpki.validation import VrpIndex  # noqa: E402
from routewatch.sources.vrp.feeds import VrpFeeds  # noqa: E402
from routewatch.sources.vrp.rtr_client import RtrClient  # noqa: E402
from routewatch.tools.replay import replay_files  # noqa: E402

#: (prefix length, share) of IPv4 and IPv6 VRPs, and the share of each family.
V4_LENGTHS = ((24, 0.56), (23, 0.09), (22, 0.12), (21, 0.05), (20, 0.05), (19, 0.03), (18, 0.02), (17, 0.02),
              (16, 0.04), (15, 0.005), (14, 0.005), (13, 0.005), (12, 0.005))
V6_LENGTHS = ((48, 0.45), (32, 0.18), (29, 0.09), (44, 0.06), (40, 0.05), (36, 0.04), (46, 0.03), (47, 0.03),
              (33, 0.02), (30, 0.02), (31, 0.02), (28, 0.01))
V6_SHARE = 0.2
MAX_LENGTH_EQUAL = 0.8  # VRPs whose max length is their prefix length (the RFC 9319 advice)
COVERED_SHARE = 0.45  # RIB prefixes given a ROA
WRONG_ORIGIN = 0.01  # of those, for another AS (invalid routes)


def rib_origins(rib: Path) -> dict[str, int]:
    """Each RIB prefix's first-seen origin, as bgpdump reads it."""
    proc = subprocess.Popen(["bgpdump", "-m", str(rib)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    assert proc.stdout is not None
    origins: dict[str, int] = {}
    for line in proc.stdout:
        fields = line.split("|")
        if len(fields) > 6 and fields[6] and fields[5] not in origins:
            origins[fields[5]] = int(fields[6].split()[-1].strip("{}").split(",")[0])
    proc.wait()
    return origins


def _weighted(rng: random.Random, table: tuple[tuple[int, float], ...]) -> int:
    return rng.choices([length for length, _ in table], [share for _, share in table])[0]


def _max_length(rng: random.Random, length: int, v6: bool) -> int:
    if rng.random() < MAX_LENGTH_EQUAL:
        return length
    top = 48 if v6 else 24
    return max(length, rng.randint(min(length + 1, top), top))


def _made_up(rng: random.Random, v6: bool) -> str:
    if v6:
        length = _weighted(rng, V6_LENGTHS)
        net = (0x2000 << 112 | rng.getrandbits(125 - 16) << 16) & ~((1 << (128 - length)) - 1)
        return f"{_v6_text(net)}/{length}"
    length = _weighted(rng, V4_LENGTHS)
    net = rng.randrange(1 << 24, 224 << 24) & ~((1 << (32 - length)) - 1) & 0xFFFFFFFF
    return f"{net >> 24}.{net >> 16 & 255}.{net >> 8 & 255}.{net & 255}/{length}"


def _v6_text(net: int) -> str:
    return str(ipaddress.IPv6Address(net))


def make_vrps(origins: dict[str, int], count: int, rng: random.Random, now: float) -> list[dict[str, object]]:
    """``count`` VRPs in rpki-client's JSON shape: part of the RIB covered, the rest made up."""
    roas: list[dict[str, object]] = []
    seen: set[tuple[str, int]] = set()
    covered = rng.sample(sorted(origins), min(count, int(len(origins) * COVERED_SHARE)))
    for prefix in covered:
        length = int(prefix.rsplit("/", 1)[1])
        v6 = ":" in prefix
        asn = origins[prefix] if rng.random() >= WRONG_ORIGIN else rng.randrange(1, 400_000)
        roas.append({"asn": asn, "prefix": prefix, "maxLength": _max_length(rng, length, v6), "ta": "synthetic",
                     "expires": int(now + rng.uniform(1, 30) * 86_400)})
        seen.add((prefix, asn))
    while len(roas) < count:
        v6 = rng.random() < V6_SHARE
        prefix = _made_up(rng, v6)
        asn = rng.randrange(1, 400_000)
        if (prefix, asn) in seen:
            continue
        seen.add((prefix, asn))
        length = int(prefix.rsplit("/", 1)[1])
        roas.append({"asn": asn, "prefix": prefix, "maxLength": _max_length(rng, length, v6), "ta": "synthetic",
                     "expires": int(now + rng.uniform(1, 30) * 86_400)})
    return roas


def write_configs(out: Path, origins: dict[str, int], watch: int, vrps: Path) -> tuple[Path, Path]:
    """(RPKI off, RPKI on) configs watching ``watch`` RIB prefixes spread over the table."""
    prefixes = list(origins.items())
    step = max(1, len(prefixes) // watch)
    chosen = prefixes[::step][:watch]
    config: dict[str, object] = {
        "prefixes": [{"prefix": p, "asn": asn} for p, asn in chosen],
        "limits": {"max_watched_prefixes": max(watch, 20_000)},
    }
    off = out / f"rpki-off-{watch}.yaml"
    off.write_text(yaml.safe_dump(config))
    config["rpki"] = {"sources": [{"type": "json", "name": "synthetic", "path": str(vrps)}]}
    on = out / f"rpki-on-{watch}.yaml"
    on.write_text(yaml.safe_dump(config))
    return off, on


def resident() -> int:
    """Resident set size now, in bytes."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096


def load_from_json(path: Path) -> tuple[VrpIndex, float, float, float, float]:
    """(index, parse seconds, index seconds, tracemalloc bytes per VRP, RSS bytes per VRP)."""
    body = path.read_bytes()
    gc.collect()
    rss_before = resident()
    started = time.perf_counter()
    load = parse_vrp_json(body)
    parsed = time.perf_counter()
    index = VrpIndex(load.vrps)
    built = time.perf_counter()
    rss_after = resident()
    del body
    tracemalloc.start(1)
    before = tracemalloc.take_snapshot()
    traced = VrpIndex(parse_vrp_json(path.read_bytes()).vrps)
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    python_bytes = sum(s.size_diff for s in after.compare_to(before, "filename"))
    count = len(traced)
    del traced
    return index, parsed - started, built - parsed, python_bytes / count, (rss_after - rss_before) / len(index)


def load_from_stayrtr(path: Path, out: Path) -> tuple[int, float] | None:
    """(VRPs, seconds) of a full RTR load from StayRTR serving ``path``; None when stayrtr is not installed."""
    import shutil

    tool = shutil.which("stayrtr")
    if tool is None:
        return None
    from tests.support.dns_servers import free_port

    port, metrics = free_port(["127.0.0.1"]), free_port(["127.0.0.1"])
    log = (out / "stayrtr.log").open("wb")
    proc = subprocess.Popen([tool, "-bind", f"127.0.0.1:{port}", "-cache", str(path), "-checktime=false",
                             "-metrics.addr", f"127.0.0.1:{metrics}", "-refresh", "3600"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        time.sleep(0.5)  # StayRTR reads and checks the file before it accepts; the load below retries anyway
        deadline = time.monotonic() + 120
        while True:
            feeds = VrpFeeds([RtrClient("bench", "127.0.0.1", port)])
            started = time.perf_counter()
            index = asyncio.run(feeds.first_load(120.0))
            seconds = time.perf_counter() - started
            if index is not None and len(index):
                return len(index), seconds
            if time.monotonic() > deadline:
                return 0, seconds
            time.sleep(1.0)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def replay(config: Path, files: list[Path], vrps: VrpIndex | None) -> tuple[int, float, float, int]:
    """(elements, seconds, CPU seconds, invalid peers summed over watched prefixes) of one in-process replay.

    CPU seconds are this process's: other work on the machine stretches the
    wall time of a replay far more than its CPU time.
    """
    monitor = build_engine(load_config(config))
    cpu = time.process_time()
    report = replay_files(monitor, [str(f) for f in files], vrps=vrps)
    cpu = time.process_time() - cpu
    invalid = sum(s.rpki_invalid_peers or 0 for s in monitor.snapshot().prefixes)
    return report.elements, report.seconds, cpu, invalid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--vrps", type=int, default=500_000)
    parser.add_argument("--watch", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-rtr", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rib, updates = ensure_files(args.out)
    print(f"machine: {machine()}; date: {time.strftime('%Y-%m-%d')}")

    origins = rib_origins(rib)
    vrp_file = args.out / f"vrps-{args.vrps}.json"
    roas = make_vrps(origins, args.vrps, random.Random(args.seed), time.time())
    vrp_file.write_text(json.dumps({"metadata": {"buildtime": "2026-01-01T00:00:00Z", "roas": len(roas)},
                                    "roas": roas}))
    v6 = sum(1 for r in roas if ":" in str(r["prefix"]))
    print(f"VRPs: {len(roas):,} ({v6:,} IPv6), {vrp_file.stat().st_size / 1e6:,.1f} MB of JSON; "
          f"{min(len(roas), int(len(origins) * COVERED_SHARE)):,} of the RIB's {len(origins):,} prefixes covered")

    index, parse_s, index_s, traced, rss = load_from_json(vrp_file)
    print(f"load from JSON: {len(index):,} VRPs, parse {parse_s:.2f} s + trie {index_s:.2f} s "
          f"= {parse_s + index_s:.2f} s")
    print(f"memory per VRP: {traced:,.0f} bytes of Python objects (tracemalloc), "
          f"{rss:,.0f} bytes of resident set growth (including pytricia's C nodes)")
    if not args.no_rtr:
        rtr = load_from_stayrtr(vrp_file, args.out)
        if rtr is None:
            print("load from StayRTR: stayrtr not installed")
        else:
            print(f"load from StayRTR over RTR: {rtr[0]:,} VRPs in {rtr[1]:.2f} s (Reset Query to End of Data, "
                  "trie included)")

    off, on = write_configs(args.out, origins, args.watch, vrp_file)
    files = [rib, updates]
    rates: dict[str, list[float]] = {"off": [], "on": []}
    cpus: dict[str, list[float]] = {"off": [], "on": []}
    for round_ in range(args.rounds):
        for label, config, vrps in (("off", off, None), ("on", on, index)):
            elements, seconds, cpu, invalid = replay(config, files, vrps)
            rate = elements / seconds
            rates[label].append(rate)
            cpus[label].append(cpu)
            extra = f", {invalid:,} invalid (peer, watched prefix) pairs at the end" if vrps is not None else ""
            print(f"round {round_ + 1} replay rib + updates, RPKI {label}: {elements:,} elements in {seconds:.2f} s "
                  f"({cpu:.2f} s CPU) = {rate:,.0f} elements/s{extra}")
    for name, pick in (("median", statistics.median), ("best", max)):
        off_rate, on_rate = pick(rates["off"]), pick(rates["on"])
        slower = (off_rate - on_rate) / off_rate * 100
        print(f"{name} of {args.rounds}: RPKI off {off_rate:,.0f} elements/s, on {on_rate:,.0f} elements/s: "
              f"{slower:.1f}% slower with {args.watch:,} watched prefixes and {len(index):,} VRPs")
    # Each round's on against its own off: the load of other work changes less within a round than across.
    pairs = zip(rates["off"], rates["on"], strict=True)
    by_round = [(off_rate - on_rate) / off_rate * 100 for off_rate, on_rate in pairs]
    print(f"per round: {', '.join(f'{r:.1f}%' for r in by_round)} slower; median {statistics.median(by_round):.1f}%")
    off_cpu, on_cpu = statistics.median(cpus["off"]), statistics.median(cpus["on"])
    print(f"CPU seconds, median of {args.rounds}: RPKI off {off_cpu:.2f} s, on {on_cpu:.2f} s: "
          f"{(on_cpu - off_cpu) / off_cpu * 100:.1f}% more")


if __name__ == "__main__":
    main()
