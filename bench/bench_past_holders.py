"""The cost of remembering who held each more-specific of a watched prefix (``core/past_holders.py``).

    python bench/bench_past_holders.py [--updates 60000] [--rounds 5]

One watched /16 and its 256 /24s as more-specifics, 100 of them held by 100
peers (RIB-established); then announcements (80%) and withdrawals (20%) of
random (/24, peer) pairs, 20 ms of data time apart, as on RIS Live. Every
update is a more-specific update, the only kind the bookkeeping touches: the
worst case. Rounds alternate with the bookkeeping off (the engine's
``past.set_holding`` replaced by a no-op) and on; the figure is the median of
CPU time per side (``time.process_time``, so that other load on the machine
weighs less) and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import ipaddress
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routewatch.core.engine import Engine  # noqa: E402
from routewatch.core.settings import WithdrawalThresholds  # noqa: E402
from routewatch.core.watch import WatchedPrefix, WatchSet  # noqa: E402
from routewatch.model import Event, Peer, RouteAnnouncement, RouteWithdrawal, intern_prefix  # noqa: E402

ORIGIN = 64_999


def events(updates: int) -> tuple[list[RouteAnnouncement], list[Event]]:
    rng = random.Random(1)
    subs = [intern_prefix(ipaddress.ip_network((0x0A000000 + (i << 8), 24))) for i in range(256)]
    peers = [Peer(f"rrc{i % 20:02d}", f"198.51.{i // 250}.{i % 250 + 1}", 64_500 + i) for i in range(100)]
    rib = [RouteAnnouncement(1000.0, p, s, (p.asn, 3356, ORIGIN)) for p in peers for s in subs[:100]]
    stream: list[Event] = []
    t = 1000.0
    for _ in range(updates):
        t += 0.02
        peer, sub = rng.choice(peers), rng.choice(subs)
        stream.append(RouteAnnouncement(t, peer, sub, (peer.asn, 174, ORIGIN)) if rng.random() < 0.8
                      else RouteWithdrawal(t, peer, sub))
    return rib, stream


def one_round(rib: list[RouteAnnouncement], stream: list[Event], remember: bool) -> float:
    aggregate = intern_prefix(ipaddress.ip_network("10.0.0.0/16"))
    engine = Engine(WatchSet([WatchedPrefix(aggregate, frozenset({ORIGIN}), WithdrawalThresholds())]))
    if not remember:
        engine.past.set_holding = lambda *args, **kwargs: None  # type: ignore[method-assign]
    engine.apply_all(rib, established=True)
    start = time.process_time()
    for event in stream:
        engine.apply(event)
    engine.flush()
    return len(stream) / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=60_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rib, stream = events(args.updates)
    rates: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(args.rounds):
        for remember in (False, True):
            rates[remember].append(one_round(rib, stream, remember))
    off, on = statistics.median(rates[False]), statistics.median(rates[True])
    print(f"{args.updates:,} more-specific updates, {args.rounds} rounds: off {off:,.0f}/s, on {on:,.0f}/s, "
          f"on/off {on / off:.2f}")


if __name__ == "__main__":
    main()
