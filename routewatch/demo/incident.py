"""The 2021-10-04 AS32934 outage, reconstructed as a timeline of BGP messages for ``routewatch demo``.

A reconstruction from public write-ups, not a capture. The facts it keeps:
AS32934 originated six prefixes covering the addresses of a-d.ns.facebook.com
(129.134.30.0/23 and 185.89.218.0/23 with their /24 halves); from ~15:39 UTC
most collector peers withdrew them over a couple of minutes, path hunting on
the way; the covering 129.134.0.0/17 stayed announced the whole time (so "is
some route covering the nameserver?" said yes); from ~21:00 they returned.
What it adds so the demo shows each kind of detection: one collector (rrc03)
restarting in the middle of the outage, which must not count as a withdrawal,
and a sub-prefix of 185.89.219.0/24 announced for half an hour by AS64511 (a
documentation AS number) at a handful of peers.

Times are epoch seconds on 2021-10-04 (UTC); the player maps them to the wall
clock at the demo's speed. The peers' addresses and AS numbers come from the
documentation ranges (198.51.100.0/24 of RFC 5737, the 16-bit AS numbers of
RFC 5398), so several peers share an AS. Deterministic: one seed, one story.
"""

from __future__ import annotations

import calendar
import enum
import random
import time
from dataclasses import dataclass

ORIGIN = 32934
HIJACKER = 64511
DNS_PREFIXES = (
    "129.134.30.0/23", "129.134.30.0/24", "129.134.31.0/24",
    "185.89.218.0/23", "185.89.218.0/24", "185.89.219.0/24",
)
AGGREGATE = "129.134.0.0/17"
HIJACKED = "185.89.219.0/25"
TRANSITS = (174, 1299, 2914, 3257, 3356, 6453, 6762, 6939)
COLLECTORS = {"rrc00": 14, "rrc01": 12, "rrc03": 10, "rrc21": 8}
RESTARTING_COLLECTOR = "rrc03"
WITHDRAWING_SHARE = 0.92
HIJACK_PEERS = 5


def utc(text: str) -> float:
    """Epoch seconds of ``'2021-10-04 15:39:00'`` (UTC)."""
    return float(calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M:%S")))


START = utc("2021-10-04 15:30:00")
OUTAGE = utc("2021-10-04 15:39:00")
RESTART_DOWN = utc("2021-10-04 15:44:00")
RESTART_UP = utc("2021-10-04 15:47:00")
HIJACK_START = utc("2021-10-04 16:30:00")
HIJACK_END = utc("2021-10-04 17:00:00")
RETURN = utc("2021-10-04 21:00:00")
END = utc("2021-10-04 21:20:00")


class StepKind(enum.StrEnum):
    ANNOUNCE = "announce"
    WITHDRAW = "withdraw"
    SESSION_DOWN = "down"
    SESSION_UP = "connected"


@dataclass(frozen=True, slots=True)
class DemoPeer:
    """A collector peer of the story."""

    collector: str
    address: str
    asn: int
    transit: int


@dataclass(frozen=True, slots=True)
class Step:
    """One message of the story: at ``at`` (incident time), ``peer`` announces, withdraws or changes session."""

    at: float
    peer: DemoPeer
    kind: StepKind
    prefixes: tuple[str, ...] = ()
    path: tuple[int, ...] = ()


def peers() -> list[DemoPeer]:
    """The story's collector peers, on documentation addresses and AS numbers."""
    found: list[DemoPeer] = []
    for c, (collector, count) in enumerate(COLLECTORS.items()):
        for i in range(count):
            n = len(found)
            address = f"198.51.100.{c * 50 + 10 + i}"
            found.append(DemoPeer(collector, address, 64496 + n % 16, TRANSITS[n % len(TRANSITS)]))
    return found


def timeline(seed: int = 20211004) -> list[Step]:
    """Every message of the story in time order."""
    rng = random.Random(seed)
    everyone = peers()
    steps: list[Step] = []
    for peer in everyone:
        at = START + rng.uniform(0, 30)
        steps.append(Step(at, peer, StepKind.ANNOUNCE, (AGGREGATE, *DNS_PREFIXES), _path(peer)))
    withdrawing = rng.sample(everyone, round(len(everyone) * WITHDRAWING_SHARE))
    for peer in withdrawing:
        steps.extend(_withdrawal(rng, peer))
    steps.extend(_restart(rng, [p for p in everyone if p.collector == RESTARTING_COLLECTOR], set(withdrawing)))
    for peer in rng.sample([p for p in everyone if p.collector != RESTARTING_COLLECTOR], HIJACK_PEERS):
        steps.append(Step(HIJACK_START + rng.uniform(0, 60), peer, StepKind.ANNOUNCE, (HIJACKED,),
                          (peer.asn, peer.transit, HIJACKER)))
        steps.append(Step(HIJACK_END + rng.uniform(0, 60), peer, StepKind.WITHDRAW, (HIJACKED,)))
    steps.sort(key=lambda step: step.at)
    return steps


def _path(peer: DemoPeer, *detour: int) -> tuple[int, ...]:
    return (peer.asn, *detour, peer.transit, ORIGIN)


def _withdrawal(rng: random.Random, peer: DemoPeer) -> list[Step]:
    """Gone at ~15:39-15:41, often after hunting through a longer path first; back from 21:00."""
    gone = OUTAGE + rng.uniform(0, 120)
    steps = []
    if rng.random() < 0.5:
        detour = TRANSITS[(TRANSITS.index(peer.transit) + 3) % len(TRANSITS)]
        steps.append(Step(gone - rng.uniform(5, 40), peer, StepKind.ANNOUNCE, DNS_PREFIXES, _path(peer, detour)))
    steps.append(Step(gone, peer, StepKind.WITHDRAW, DNS_PREFIXES))
    steps.append(Step(RETURN + rng.uniform(0, 600), peer, StepKind.ANNOUNCE, DNS_PREFIXES, _path(peer)))
    return steps


def _restart(rng: random.Random, restarting: list[DemoPeer], withdrawing: set[DemoPeer]) -> list[Step]:
    """Every session of one collector goes down and comes back, re-sending what its peer holds then."""
    steps = []
    for peer in restarting:
        steps.append(Step(RESTART_DOWN + rng.uniform(0, 5), peer, StepKind.SESSION_DOWN))
        up = RESTART_UP + rng.uniform(0, 30)
        steps.append(Step(up, peer, StepKind.SESSION_UP))
        held = (AGGREGATE,) if peer in withdrawing else (AGGREGATE, *DNS_PREFIXES)
        steps.append(Step(up + rng.uniform(1, 10), peer, StepKind.ANNOUNCE, held, _path(peer)))
    return steps
