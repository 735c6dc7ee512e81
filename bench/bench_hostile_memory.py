"""Memory under hostile floods: RSS before, after a flood, and after the flood is withdrawn.

    python bench/bench_hostile_memory.py [--routes 400000] [--paths 1500]

Three floods through ``Engine.apply``, each in a fresh process state measured
with the kernel's figure (``/proc/self/status`` VmRSS, after a full garbage
collection). Prefixes are made as they are applied and dropped after, as a
feed parses them, so the figure is what the core keeps, not the benchmark's
own inputs; the core is flushed after every ``BATCH`` events, as the daemon
does after each batch it hands over:

- ``more-specifics``: one hostile peer announces ``--routes`` /32 and /128
  more-specifics of two watched prefixes (a sub-prefix hijack), then withdraws
  them all;
- ``unwatched``: ``--routes`` distinct prefixes no watched prefix covers, as a
  full feed brings them;
- ``long-paths``: ``--paths`` distinct 10,000-hop AS paths on one watched prefix.

The target (issue 18): < 100 MB growth for 400,000 hostile routes, and the
memory returned when they are withdrawn.
"""

from __future__ import annotations

import argparse
import gc
import ipaddress
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routewatch.core.engine import Engine  # noqa: E402
from routewatch.core.settings import WithdrawalThresholds  # noqa: E402
from routewatch.core.watch import WatchedPrefix, WatchSet  # noqa: E402
from routewatch.model import AsPath, Peer, Prefix, RouteAnnouncement, RouteWithdrawal, intern_prefix  # noqa: E402

ORIGIN = 32934
V4 = intern_prefix(ipaddress.ip_network("10.0.0.0/8"))
V6 = intern_prefix(ipaddress.ip_network("2001:db8::/32"))
HOSTILE = Peer("rrc00", "192.0.2.66", 64_666)


def rss_mb() -> float:
    gc.collect()
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def engine() -> Engine:
    return Engine(WatchSet([WatchedPrefix(p, frozenset({ORIGIN}), WithdrawalThresholds()) for p in (V4, V6)]))


BATCH = 1_000
"""Events between two flushes of the core."""


def more_specifics(n: int) -> Iterator[Prefix]:
    half = n // 2
    for i in range(half):
        yield intern_prefix(ipaddress.ip_network((0x0A000000 + i, 32)))
    for i in range(n - half):
        yield intern_prefix(ipaddress.ip_network(((0x20010DB8 << 96) + i, 128)))


def unwatched(n: int) -> Iterator[Prefix]:
    for i in range(n):
        yield intern_prefix(ipaddress.ip_network((0x64000000 + (i << 8), 24)))


def long_paths(n: int) -> Iterator[Prefix]:
    for _ in range(n):
        yield V4


def flood(name: str, prefixes: Callable[[], Iterator[Prefix]], path_of: Callable[[int], AsPath]) -> None:
    """Announce every prefix ``prefixes()`` makes, then withdraw them all (made again, as a feed would)."""
    core = engine()
    before = rss_mb()
    t = 1_000.0
    count = 0
    for count, prefix in enumerate(prefixes(), 1):
        core.apply(RouteAnnouncement(t, HOSTILE, prefix, path_of(count)))
        if count % BATCH == 0:
            core.flush()
    core.flush()
    flooded = rss_mb()
    for i, prefix in enumerate(prefixes(), 1):
        core.apply(RouteWithdrawal(t + 1, HOSTILE, prefix))
        if i % BATCH == 0:
            core.flush()
    core.flush()
    withdrawn = rss_mb()
    print(f"{name:15} {count:>9,} routes  RSS before {before:7.1f} MB  flooded {flooded:7.1f} MB "
          f"(+{flooded - before:6.1f})  withdrawn {withdrawn:7.1f} MB (+{withdrawn - before:6.1f})  "
          f"open detections {len(core.open_detections()):,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--routes", type=int, default=400_000)
    parser.add_argument("--paths", type=int, default=1_500)
    parser.add_argument("--flood", choices=["more-specifics", "unwatched", "long-paths"], default=None)
    args = parser.parse_args()
    if args.flood in (None, "more-specifics"):
        flood("more-specifics", lambda: more_specifics(args.routes), lambda i: (64_666, 666))
    if args.flood in (None, "unwatched"):
        flood("unwatched", lambda: unwatched(args.routes), lambda i: (64_666, 666))
    if args.flood in (None, "long-paths"):
        flood("long-paths", lambda: long_paths(args.paths), lambda i: (*range(1 + i, 10_001 + i), ORIGIN))


if __name__ == "__main__":
    main()
