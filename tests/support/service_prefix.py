"""A zone whose nameservers share one service prefix that is withdrawn while a covering aggregate stays.

The DNS side runs for real on loopback: a Knot parent (com.) with the
delegation and glue, and three nameservers of facebook.com, two Knot and one
NSD, on 127.0.0.17-19, all in the service prefix 127.0.0.16/29. The BGP side
is a story told by 40 collector peers on two collectors (2021-10-04, data
time): at 15:30 every peer announces 127.0.0.16/29 and the covering
127.0.0.0/8; from 15:39:30 to 15:40:36 34 of them withdraw the /29, keeping
the /8 (the 2021 trap: "is some route covering the address?" still says yes);
at 15:42 a peer that kept the /29 changes its path, at 15:50 one changes its
path to the /8, and at 15:59 an unrelated prefix moves, so the data ends at
15:59 while the /29 last changed at 15:42.

The events are written as MRT by ``mrt_writer`` (bytes built from the RFCs,
not by routewatch), as RIS Live messages and as RIPEstat bgplay answers built
here from the same facts;
the servers are started by :mod:`tests.support.zone_lab`.
"""

from __future__ import annotations

import calendar
import ipaddress
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.mrt_writer import Update, write_updates
from tests.support.ripestat_server import bgplay

ZONE = "facebook.com."
PARENT = "127.0.0.20"
NAMESERVERS = {"a.ns.facebook.com.": "127.0.0.17", "b.ns.facebook.com.": "127.0.0.18",
               "c.ns.facebook.com.": "127.0.0.19"}
NSD_SERVED = "c.ns.facebook.com."
SERVICE = "127.0.0.16/29"
AGGREGATE = "127.0.0.0/8"
UNRELATED = "192.0.2.0/24"
ORIGIN = 64500
TRANSITS = (174, 1299, 3356, 6939)
PEERS = 40
WITHDRAWING = 34
COLLECTORS = ("rrc00", "rrc01")


def utc(text: str) -> int:
    return calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M:%S"))


ANNOUNCED = utc("2021-10-04 15:30:00")
WITHDRAWALS = utc("2021-10-04 15:39:30")
PATH_CHANGE = utc("2021-10-04 15:42:00")
AGGREGATE_CHANGE = utc("2021-10-04 15:50:00")
END = utc("2021-10-04 15:59:00")


@dataclass(frozen=True)
class ScenarioPeer:
    collector: str
    address: str
    asn: int

    def path(self, transit_shift: int = 0) -> list[int]:
        return [self.asn, TRANSITS[(self.asn + transit_shift) % len(TRANSITS)], ORIGIN]


def peers() -> list[ScenarioPeer]:
    return [ScenarioPeer(COLLECTORS[n % 2], f"192.0.2.{n + 1}", 64601 + n) for n in range(PEERS)]


def updates(start: int = ANNOUNCED) -> dict[str, list[Update]]:
    """The story per collector, shifted so that it begins at ``start`` (data time)."""
    shift = start - ANNOUNCED
    every = peers()
    stories: dict[str, list[Update]] = {c: [] for c in COLLECTORS}
    for peer in every:
        stories[peer.collector].append(Update(ANNOUNCED + shift, peer.address, peer.asn, [AGGREGATE, SERVICE],
                                              peer.path()))
    for n, peer in enumerate(every[:WITHDRAWING]):
        stories[peer.collector].append(Update(WITHDRAWALS + shift + 2 * n, peer.address, peer.asn,
                                              withdrawn=[SERVICE]))
    kept, other = every[-1], every[0]
    stories[kept.collector].append(Update(PATH_CHANGE + shift, kept.address, kept.asn, [SERVICE], kept.path(1)))
    stories[other.collector].append(Update(AGGREGATE_CHANGE + shift, other.address, other.asn, [AGGREGATE],
                                           other.path(1)))
    stories[other.collector].append(Update(END + shift, other.address, other.asn, [UNRELATED], [other.asn, 65010]))
    for story in stories.values():
        story.sort(key=lambda u: u.time)
    return stories


def write_mrt(directory: Path, start: int = ANNOUNCED) -> list[Path]:
    """One BGP4MP update file per collector, named as RIS names them."""
    directory.mkdir(parents=True, exist_ok=True)
    return [write_updates(directory / f"{collector}.updates.20211004.1530", story)
            for collector, story in updates(start).items()]


def ris_message(update: Update, collector: str) -> dict[str, Any]:
    """The RIS Live ``ris_message`` for one update (built from the facts, not by routewatch)."""
    data: dict[str, Any] = {
        "timestamp": float(update.time), "peer": update.peer_ip, "peer_asn": str(update.peer_as),
        "id": f"{update.peer_ip}-{update.time}", "host": collector, "type": "UPDATE",
    }
    if update.announced:
        data.update(path=list(update.path), origin="IGP",
                    announcements=[{"next_hop": update.peer_ip, "prefixes": list(update.announced)}])
    if update.withdrawn:
        data["withdrawals"] = list(update.withdrawn)
    return {"type": "ris_message", "data": data}


def bgplay_answer(address: str, start: int, end: int) -> dict[str, Any]:
    """RIPEstat's bgplay answer for a nameserver address over [start, end]: the routes covering it at ``start``
    (the /29 and the /8 from every peer that held them then), and the story's updates after it until ``end``.

    Whether RIPEstat answers an address with every covering prefix or only some is not documented; this
    answer gives every covering prefix, so the fall-back to the /8 can be named.
    """
    covering = [p for p in (SERVICE, AGGREGATE) if _covers(p, address)]
    state: dict[tuple[str, str], list[int]] = {}
    events: list[dict[str, Any]] = []
    seq = 0
    for collector, story in sorted(updates().items()):
        for update in story:
            source = f"{int(collector[3:]):02d}-{update.peer_ip}"
            for prefix in [p for p in update.withdrawn if p in covering]:
                if update.time <= start:
                    state.pop((source, prefix), None)
                elif update.time <= end:
                    seq += 1
                    events.append({"type": "W", "timestamp": update.time, "seq": seq,
                                   "attrs": {"source_id": source, "target_prefix": prefix}})
            for prefix in [p for p in update.announced if p in covering]:
                if update.time <= start:
                    state[(source, prefix)] = list(update.path)
                elif update.time <= end:
                    seq += 1
                    events.append({"type": "A", "timestamp": update.time, "seq": seq,
                                   "attrs": {"source_id": source, "target_prefix": prefix,
                                             "path": list(update.path), "community": []}})
    initial = [{"target_prefix": prefix, "source_id": source, "path": path, "community": []}
               for (source, prefix), path in sorted(state.items())]
    events.sort(key=lambda e: (e["timestamp"], e["seq"]))
    return bgplay(address, start, end, initial, events)


def _covers(prefix: str, address: str) -> bool:
    return ipaddress.ip_address(address) in ipaddress.ip_network(prefix)
