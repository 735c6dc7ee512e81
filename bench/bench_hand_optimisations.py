"""Hand optimisations against their plain alternative, measured in one run.

    python bench/bench_hand_optimisations.py [--rounds 5] [--messages 50000]

Two optimisations are weighed:

- events built through their slot descriptors (``routewatch/slot_init.py``) against the
  ``__init__`` the dataclass generates;
- the RIS Live parser's one-pass reading of well-formed UPDATEs (``RisParser.frame``) against
  the careful, field-by-field reading alone (``RisParser.careful_frame``).

Each of the four combinations runs in a fresh interpreter (the decorator acts when the model is
imported), the combinations interleaved round after round so that the shared machine's drift
falls on all of them alike; each figure is the best of the rounds, the median beside it. The
messages are those of bench_ris_live.py (real RIB routes of 10,000 watched prefixes, alternately
announced and withdrawn), built once by the parent.

Measured per variant: a ten-field announcement built (us), a message parsed (us), and a message
through parser and core in process (us), as ``in_process_rate`` of bench_ris_live.py runs them; all in
process CPU time, so that other work on the shared machine weighs less.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {
    "descriptor init + one-pass parser": (True, True),
    "descriptor init, careful parser only": (True, False),
    "dataclass init + one-pass parser": (False, True),
    "dataclass init, careful parser only": (False, False),
}


def child(variant: str, data: Path) -> dict[str, float]:
    """One variant's figures, in this (fresh) interpreter."""
    descriptor_init, one_pass = VARIANTS[variant]
    if not descriptor_init:
        import routewatch.slot_init as module

        module.init_through_slots = lambda cls: cls  # type: ignore[assignment]  # before the model is imported
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_ris_live import in_process_rate, parse_rates

    from routewatch.model import Peer, RouteAnnouncement, parse_prefix
    from routewatch.sources.ris_live.parse import RisParser

    if not one_pass:
        RisParser.frame = RisParser.careful_frame  # type: ignore[method-assign]
    watch, texts = json.loads(data.read_text())
    gc.freeze()
    peer, prefix = Peer("rrc00", "192.0.2.1", 64500), parse_prefix("192.0.2.0/24")
    path, communities = (64500, 64501, 64502), ((64500, 1), (64500, 2))
    count = 200_000
    started = time.process_time()
    for i in range(count):
        RouteAnnouncement(float(i), peer, prefix, path, 1, 0, None, "192.0.2.254", communities, ())
    build = (time.process_time() - started) / count
    parse = 1 / parse_rates(texts, time.process_time)["RisParser.decode (JSON to events)"]
    core = 1 / in_process_rate(watch, texts, time.process_time)
    return {"announcement built": build * 1e6, "message parsed": parse * 1e6, "message, parser and core": core * 1e6}


def build_data(path: Path, count: int) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_ris_live import build_data as ris_data
    from bench_ris_live import timestamped

    watch, texts = ris_data()
    path.write_text(json.dumps([watch, timestamped(texts, count, 50_000)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.data)))
        return
    with tempfile.TemporaryDirectory() as directory:
        data = Path(directory) / "messages.json"
        build_data(data, args.messages)
        figures: dict[str, list[dict[str, float]]] = {name: [] for name in VARIANTS}
        for round_ in range(args.rounds):
            for name in VARIANTS:
                done = subprocess.run([sys.executable, __file__, "--child", name, "--data", str(data)],
                                      capture_output=True, text=True, check=True, cwd=ROOT)
                figures[name].append(json.loads(done.stdout))
            print(f"# round {round_ + 1} of {args.rounds} done", file=sys.stderr, flush=True)
    report(figures, args)


def report(figures: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> None:
    print(f"# {datetime.date.today()} {platform.node()} {platform.python_implementation()} "
          f"{platform.python_version()} {os.cpu_count()} CPUs; {args.messages} messages, {args.rounds} rounds")
    print("| variant | announcement built (us) | message parsed (us) | message, parser and core (us) |")
    print("|---|---:|---:|---:|")
    for name, runs in figures.items():
        cells = [f"{min(r[k] for r in runs):.2f} ({statistics.median(r[k] for r in runs):.2f})" for k in runs[0]]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
