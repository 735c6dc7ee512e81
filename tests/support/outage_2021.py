"""A reconstruction of the 2021-10-04 AS32934 outage as BGP events (reconstructed, not a capture).

Built from ../shared/data/dns/facebook.com.delegation.json: the six AS32934
prefixes that covered the four nameservers, and the covering 129.134.0.0/17
that stayed announced. Dozens of peers on several collectors carry them; from
~15:39 UTC most peers withdraw the six over a few minutes, with path hunting
(peers briefly announce longer paths before withdrawing); one collector
restarts in the middle of it; from ~21:00 the prefixes return. A peer session
reset in quiet times checks that a reset alone raises nothing.

Deterministic (fixed seed), so tests can assert exact detection times.
"""

from __future__ import annotations

import calendar
import json
import random
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from routewatch.model import Event, FsmState, Peer, PeerStateChange, RouteAnnouncement, RouteWithdrawal, parse_prefix
from tests.support.tools import SHARED_DATA

FACEBOOK = 32934
TRANSITS = (174, 1299, 2914, 3257, 3356, 6453, 6762, 6939)
COLLECTORS = {"rrc00": 14, "rrc01": 12, "rrc03": 12, "route-views2": 10}
RESTARTING_COLLECTOR = "rrc03"
WITHDRAWING_SHARE = 0.92


def utc(text: str) -> float:
    """Epoch seconds of '2021-10-04 15:39:00' (UTC)."""
    return float(calendar.timegm(__import__("time").strptime(text, "%Y-%m-%d %H:%M:%S")))


START = utc("2021-10-04 12:00:00")
OUTAGE = utc("2021-10-04 15:39:00")
RESTART_DOWN = utc("2021-10-04 15:44:00")
RESTART_UP = utc("2021-10-04 15:47:00")
RETURN = utc("2021-10-04 21:00:00")
END = utc("2021-10-04 22:00:00")


def delegation() -> dict:
    return json.loads((SHARED_DATA / "dns" / "facebook.com.delegation.json").read_text())


def dns_prefixes() -> list[str]:
    return list(delegation()["covering_prefixes_origin_as32934"]["ipv4_from_routeviews_show_ip_bgp_text"])


AGGREGATE = "129.134.0.0/17"


@dataclass
class Outage:
    """The scenario's events in time order, and the facts tests assert against."""

    events: list[Event] = field(default_factory=list)
    peers: list[Peer] = field(default_factory=list)
    withdrawing: dict[str, list[Peer]] = field(default_factory=dict)
    majority_gone_at: dict[str, float] = field(default_factory=dict)
    back_at: dict[str, float] = field(default_factory=dict)


def build(seed: int = 20211004) -> Outage:
    rng = random.Random(seed)
    out = Outage()
    asn = 64600
    for collector, count in COLLECTORS.items():
        for _ in range(count):
            asn += 1
            out.peers.append(Peer(collector, f"192.0.2.{len(out.peers) + 1}", asn))
    paths = {peer: (peer.asn, rng.choice(TRANSITS), FACEBOOK) for peer in out.peers}
    events: list[Event] = []
    for prefix in [AGGREGATE, *dns_prefixes()]:
        for peer in out.peers:
            events.append(RouteAnnouncement(START + rng.uniform(0, 30), peer, parse_prefix(prefix), paths[peer]))
    # a quiet-time session reset: the peer drops and re-sends everything two minutes later
    reset_peer = out.peers[3]
    events.append(PeerStateChange(utc("2021-10-04 13:30:00"), reset_peer, FsmState.ESTABLISHED, FsmState.IDLE))
    events.append(PeerStateChange(utc("2021-10-04 13:32:00"), reset_peer, FsmState.ACTIVE, FsmState.ESTABLISHED))
    for prefix in [AGGREGATE, *dns_prefixes()]:
        events.append(RouteAnnouncement(utc("2021-10-04 13:32:05"), reset_peer, parse_prefix(prefix),
                                        paths[reset_peer]))
    for prefix in dns_prefixes():
        net = parse_prefix(prefix)
        chosen = [p for p in out.peers if rng.random() < WITHDRAWING_SHARE]
        out.withdrawing[prefix] = chosen
        times = []
        for peer in chosen:
            gone = OUTAGE + rng.uniform(10, 240)
            # path hunting: one or two longer paths just before the withdrawal
            for hop in range(rng.choice((0, 1, 2))):
                hunt = (peer.asn, rng.choice(TRANSITS), rng.choice(TRANSITS), FACEBOOK)
                events.append(RouteAnnouncement(gone - rng.uniform(2, 8) + hop, peer, net, hunt))
            events.append(RouteWithdrawal(gone, peer, net))
            times.append(gone)
        times.sort()
        # the data time at which more than half of all peers have withdrawn
        out.majority_gone_at[prefix] = times[len(out.peers) // 2]
        returns = []
        for peer in out.peers:
            back = RETURN + rng.uniform(0, 600)
            events.append(RouteAnnouncement(back, peer, net, paths[peer]))
            returns.append(back)
        out.back_at[prefix] = sorted(returns)[int(len(out.peers) * 0.8)]
    # one collector restarts in the middle of the outage: all its sessions drop and come back,
    # re-sending what they still have (the aggregate, and the DNS prefixes for the few that kept them)
    restarting = [p for p in out.peers if p.collector == RESTARTING_COLLECTOR]
    for peer in restarting:
        events.append(PeerStateChange(RESTART_DOWN, peer, FsmState.ESTABLISHED, FsmState.IDLE))
        events.append(PeerStateChange(RESTART_UP, peer, FsmState.OPENCONFIRM, FsmState.ESTABLISHED))
        events.append(RouteAnnouncement(RESTART_UP + 5, peer, parse_prefix(AGGREGATE), paths[peer]))
        for prefix in dns_prefixes():
            if peer not in out.withdrawing[prefix]:
                events.append(RouteAnnouncement(RESTART_UP + 5, peer, parse_prefix(prefix), paths[peer]))
    events.sort(key=lambda e: (e.time, isinstance(e, PeerStateChange)))
    out.events = events
    return out


def replay_inputs(directory: Path) -> tuple[Outage, list[Path], Path]:
    """The scenario, its MRT files and a config watching the aggregate and the DNS prefixes (for replay)."""
    scenario = build()
    files = write_mrt(directory, scenario)
    config = directory / "routewatch.yaml"
    config.write_text(yaml.safe_dump({
        "prefixes": [{"prefix": p, "asn": FACEBOOK} for p in [AGGREGATE, *dns_prefixes()]],
    }))
    return scenario, files, config


def write_mrt(directory: Path, scenario: Outage | None = None) -> list[Path]:
    """The scenario as one BGP4MP update file per collector (whole seconds, as BGP4MP has)."""
    from tests.support.mrt_writer import StateChange, Update, write_updates

    scenario = scenario or build()
    records: dict[str, list[Update | StateChange]] = {c: [] for c in COLLECTORS}
    for event in scenario.events:
        peer, t = event.peer, int(event.time)
        if isinstance(event, RouteAnnouncement):
            path = [hop for hop in event.as_path if isinstance(hop, int)]
            records[peer.collector].append(Update(t, peer.address, peer.asn, [str(event.prefix)], path))
        elif isinstance(event, RouteWithdrawal):
            records[peer.collector].append(Update(t, peer.address, peer.asn, withdrawn=[str(event.prefix)]))
        elif isinstance(event, PeerStateChange):
            records[peer.collector].append(StateChange(t, peer.address, peer.asn, event.old_state, event.new_state))
    directory.mkdir(parents=True, exist_ok=True)
    return [write_updates(directory / f"{collector}.updates.20211004.mrt", items)
            for collector, items in records.items()]
